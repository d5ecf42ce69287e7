"""How a worker hands its results to the test: one JSON file per rank in ``$REPORT_DIR``
(a rank's stdout lines may interleave with another's)."""
import json
import os


def report(rank: int, **values) -> None:
    folder = os.environ.get("REPORT_DIR")
    text = json.dumps({"rank": rank, **values})
    if not folder:
        print(text, flush=True)
        return
    path = os.path.join(folder, f"rank{rank}.json")
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)
