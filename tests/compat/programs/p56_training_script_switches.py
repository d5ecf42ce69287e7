# The lines training scripts start with, and mixed-precision training with a gradient scaler:
# cuDNN/TF32/MPS switches, matmul precision, deterministic algorithms, threads, finfo/iinfo,
# memory formats, autocast and GradScaler on the CPU (a scale so large that the first steps
# overflow: those are skipped and the scale backs off, as PyTorch's does; it grows after three
# clean steps, but never to inf).
import torch
import torch.backends.cudnn as cudnn
import torch.nn as nn
import torch.nn.functional as F

threads = torch.get_num_threads()
try:
    cudnn.benchmark = True
    cudnn.deterministic = True
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    torch.set_float32_matmul_precision("high")
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.set_num_threads(1)
    print(cudnn.benchmark, torch.backends.cudnn.deterministic, torch.get_float32_matmul_precision(),
          torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled(),
          torch.get_num_threads(), torch.backends.mps.is_available())
    device = "mps" if torch.backends.mps.is_available() else "cpu"

    f32, f64, i64, u8 = torch.finfo(torch.float32), torch.finfo(), torch.iinfo(torch.int64), torch.iinfo(torch.uint8)
    print(f32.eps, f32.max, f32.tiny, f32.resolution, f32.bits, f64.dtype, i64.max, u8.min, u8.max)

    images = torch.arange(2 * 3 * 4 * 4, dtype=torch.float32).reshape(2, 3, 4, 4)
    print(images.is_contiguous(), images.is_contiguous(memory_format=torch.channels_last),
          images.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2).is_contiguous(memory_format=torch.channels_last))

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3)).to(device)
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(torch.linspace(-0.5, 0.5, p.numel()).reshape(p.shape) * (i + 1) / 4)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0 ** 127, growth_interval=3)
    x = torch.linspace(-1, 1, 8 * 6).reshape(8, 6)
    y = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    scales, losses, skipped = [], [], []
    for step in range(12):
        optimizer.zero_grad()
        with torch.autocast(device_type="cpu", enabled=False):
            loss = F.cross_entropy(model(x), y)
        before = [p.detach().clone() for p in model.parameters()]
        scaler.scale(loss * 4).backward()  # 4 x 2**127 overflows float32: those steps are skipped
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        scaler.step(optimizer)
        scaler.update()
        skipped.append(all(torch.equal(b, p) for b, p in zip(before, model.parameters())))
        scales.append(scaler.get_scale())
        losses.append(loss.item())
    print(skipped)
    print(scales)
    print(scaler.state_dict())
    print(torch.is_autocast_enabled())
finally:  # the switches are process-wide: leave PyTorch as the other programs expect it
    torch.use_deterministic_algorithms(False)
    torch.set_float32_matmul_precision("highest")
    torch.set_num_threads(threads)
    cudnn.benchmark = cudnn.deterministic = False

results = {"losses": torch.tensor(losses), "weights": [p.detach() for p in model.parameters()]}
