"""Model builders for ``chainrule train``, by name in ``MODELS``.

A builder takes the input shape of one sample (``(1, 8, 8)`` for the digits), the number
of classes, and keyword options from the command line (``hidden``, ``activation``,
``dropout``, ...), ignoring those it has no use for, and returns an ``nn.Module``. What
it maps is its kind, in ``MODEL_INPUTS``:

* ``"image"`` (mlp, cnn): a batch of samples to class logits ``(B, classes)``;
* ``"sequence"`` (rnn, lstm, gru, transformer): a batch of token-id sequences ``(B, T)`` (``input_shape``
  is ``(T,)``, ``num_classes`` the vocabulary size) to next-token logits at every step,
  ``(B, T, classes)``, each step seeing only the tokens up to it.

Register a new one with ``@register("name")`` (``@register("name", inputs="sequence")``);
it then appears in ``chainrule train --model`` for the datasets of its kind::

    model = build_model("mlp", (1, 8, 8), 10, hidden=(128, 64), activation="relu")
    model = build_model("lstm", (12,), 27, hidden=(128,))
"""
from __future__ import annotations

import math
from typing import Any, Callable, Sequence

from . import nn

ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "relu": nn.ReLU,
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "gelu": nn.GELU,
}

MODELS: dict[str, Callable[..., nn.Module]] = {}
#: For builders that register one: their parameter count from the same arguments, computed
#: without building anything (so that a huge model is refused before it is allocated).
PARAMETER_COUNTS: dict[str, Callable[..., int]] = {}
#: What each model of ``MODELS`` takes: "image" or "sequence" (see above).
MODEL_INPUTS: dict[str, str] = {}


def register(name: str, inputs: str = "image", parameters: Callable[..., int] | None = None
             ) -> Callable[[Callable[..., nn.Module]], Callable[..., nn.Module]]:
    """Add a builder to ``MODELS`` under ``name``, taking ``inputs`` ("image" or "sequence"),
    and its parameter count to ``PARAMETER_COUNTS`` (a function of the builder's arguments)."""
    if inputs not in ("image", "sequence"):
        raise ValueError(f"inputs must be 'image' or 'sequence', got {inputs!r}")

    def add(builder: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        MODELS[name] = builder
        MODEL_INPUTS[name] = inputs
        if parameters is not None:
            PARAMETER_COUNTS[name] = parameters
        return builder
    return add


def make_activation(name: str) -> nn.Module:
    """A fresh activation module by name (``relu``, ``sigmoid``, ``tanh``, ``gelu``)."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation '{name}' (choose from {', '.join(ACTIVATIONS)})")
    return ACTIVATIONS[name]()


def _head_parameters(features: int, hidden: Sequence[int], num_classes: int) -> int:
    """Parameters of ``Linear`` layers through the ``hidden`` widths to the class logits."""
    total = 0
    for size in list(hidden) + [num_classes]:
        total += features * int(size) + int(size)
        features = int(size)
    return total


def mlp_parameters(input_shape: Sequence[int], num_classes: int, hidden: Sequence[int] = (128, 64),
                   **_: Any) -> int:
    """The number of parameters ``mlp`` builds with these arguments."""
    return _head_parameters(math.prod(input_shape), hidden, num_classes)


@register("mlp", parameters=mlp_parameters)
def mlp(input_shape: Sequence[int], num_classes: int, hidden: Sequence[int] = (128, 64),
        activation: str = "relu", dropout: float = 0.0, **_: Any) -> nn.Sequential:
    """Flatten, then ``Linear -> activation [-> Dropout]`` per hidden width, then a Linear to
    the class logits."""
    if any(int(h) <= 0 for h in hidden):
        raise ValueError(f"hidden widths must be positive, got {list(hidden)}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")
    layers: list[nn.Module] = [nn.Flatten()]
    width = math.prod(input_shape)
    for size in hidden:
        layers += [nn.Linear(width, int(size)), make_activation(activation)]
        if dropout:
            layers.append(nn.Dropout(dropout))
        width = int(size)
    layers.append(nn.Linear(width, num_classes))
    return nn.Sequential(*layers)


def cnn_parameters(input_shape: Sequence[int], num_classes: int, hidden: Sequence[int] = (),
                   channels: Sequence[int] = (32, 64), **_: Any) -> int:
    """The number of parameters ``cnn`` builds with these arguments (its input shape must
    have 3 dimensions)."""
    depth, height, width = (int(n) for n in input_shape)
    total = 0
    for size in channels:
        total += depth * int(size) * 9 + int(size) + 2 * int(size)  # conv weight and bias, batch norm
        depth, height, width = int(size), height // 2, width // 2
    return total + _head_parameters(depth * height * width, hidden, num_classes)


@register("cnn", parameters=cnn_parameters)
def cnn(input_shape: Sequence[int], num_classes: int, hidden: Sequence[int] = (),
        activation: str = "relu", dropout: float = 0.0, channels: Sequence[int] = (32, 64), **_: Any) -> nn.Sequential:
    """A small LeNet-style network for (C, H, W) images.  Per entry of ``channels`` a block
    ``Conv2d 3x3 (padding 1) -> BatchNorm2d -> activation -> MaxPool2d(2)`` (8x8 digits end
    at 2x2, 28x28 MNIST at 7x7); then ``Linear -> activation [-> Dropout]`` per ``hidden``
    width (none by default) and a Linear to the class logits."""
    if len(input_shape) != 3:
        raise ValueError(f"cnn needs (channels, height, width) samples, got shape {tuple(input_shape)}")
    if any(int(c) <= 0 for c in channels) or any(int(h) <= 0 for h in hidden):
        raise ValueError(f"channels and hidden widths must be positive, got {list(channels)} and {list(hidden)}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")
    depth, height, width = (int(n) for n in input_shape)
    if min(height, width) < 2 ** len(channels):
        raise ValueError(f"cnn: {height}x{width} images are too small for {len(channels)} 2x2 poolings")
    layers: list[nn.Module] = []
    for size in channels:
        layers += [nn.Conv2d(depth, int(size), 3, padding=1), nn.BatchNorm2d(int(size)),
                   make_activation(activation), nn.MaxPool2d(2)]
        depth, height, width = int(size), height // 2, width // 2
    layers.append(nn.Flatten())
    features = depth * height * width
    for size in hidden:
        layers += [nn.Linear(features, int(size)), make_activation(activation)]
        if dropout:
            layers.append(nn.Dropout(dropout))
        features = int(size)
    layers.append(nn.Linear(features, num_classes))
    return nn.Sequential(*layers)


class CharRNN(nn.Module):
    """Next-token logits at every step of a token sequence: an Embedding, recurrent layers
    (``nn.RNN``, ``nn.LSTM`` or ``nn.GRU``, batch first), Dropout, and a Linear to the
    vocabulary."""

    def __init__(self, kind: str, vocab_size: int, embedding: int, hidden: int, layers: int,
                 dropout: float) -> None:
        super().__init__()
        recurrent = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[kind]
        self.embedding = nn.Embedding(vocab_size, embedding)
        self.rnn = recurrent(embedding, hidden, num_layers=layers, batch_first=True,
                             dropout=dropout if layers > 1 else 0.0)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden, vocab_size)

    def forward(self, tokens: Any) -> Any:
        output, _ = self.rnn(self.embedding(tokens))
        return self.head(self.dropout(output))


def _char_rnn(kind: str) -> Callable[..., nn.Module]:
    def build(input_shape: Sequence[int], num_classes: int, hidden: Sequence[int] = (128,), dropout: float = 0.0,
              embedding: int = 32, **_: Any) -> CharRNN:
        widths = sorted({int(h) for h in hidden})
        if len(widths) != 1 or widths[0] <= 0:
            raise ValueError(f"{kind}: the recurrent layers share one positive width (--hidden 128 or "
                             f"--hidden 128,128 for two layers), got {list(hidden)}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        return CharRNN(kind, num_classes, embedding, widths[0], len(hidden), dropout)

    build.__name__ = kind
    build.__doc__ = (f"Embedding (``embedding`` wide) -> {kind.upper()} layers, one per ``hidden`` entry (all "
                     "of one width) -> Dropout -> Linear to the vocabulary: next-token logits at every step.")
    return build


for _kind in ("rnn", "lstm", "gru"):
    register(_kind, inputs="sequence")(_char_rnn(_kind))


class CharTransformer(nn.Module):
    """Next-token logits at every step of a token sequence, GPT-style: token and learned
    position embeddings, ``nn.TransformerEncoder`` layers (pre-norm, causal mask: each step
    attends to the steps up to it), a final LayerNorm and a Linear to the vocabulary."""

    def __init__(self, vocab_size: int, length: int, width: int, layers: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, width)
        self.position = nn.Embedding(length, width)
        layer = nn.TransformerEncoderLayer(width, heads, dim_feedforward=4 * width, dropout=dropout,
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, vocab_size)

    def forward(self, tokens: Any) -> Any:
        steps = tokens.shape[1]
        positions = self.position.weight[:steps]
        mask = nn.Transformer.generate_square_subsequent_mask(steps)
        hidden = self.encoder(self.embedding(tokens) + positions, mask=mask, is_causal=True)
        return self.head(self.norm(hidden))


@register("transformer", inputs="sequence")
def transformer(input_shape: Sequence[int], num_classes: int, hidden: Sequence[int] = (64, 64),
                dropout: float = 0.0, heads: int = 4, **_: Any) -> CharTransformer:
    """Token + position embeddings -> one pre-norm causal TransformerEncoderLayer per ``hidden``
    entry (all of one width, a multiple of ``heads``) -> LayerNorm -> Linear to the vocabulary."""
    widths = sorted({int(h) for h in hidden})
    if len(widths) != 1 or widths[0] <= 0 or widths[0] % heads:
        raise ValueError(f"transformer: the layers share one positive width divisible by {heads} heads (--hidden 64 "
                         f"or --hidden 64,64 for two layers), got {list(hidden)}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")
    return CharTransformer(num_classes, int(input_shape[0]), widths[0], len(hidden), heads, dropout)

# Another sequence model plugs in the same way: a builder taking (input_shape=(T,),
# num_classes=vocabulary size, hidden=..., dropout=...) and returning a module from (B, T)
# token ids to (B, T, vocabulary) logits, each step seeing only the tokens up to it,
# registered with ``register(name, inputs="sequence")``.


def build_model(name: str, input_shape: Sequence[int], num_classes: int, **options: Any) -> nn.Module:
    """The model ``MODELS[name]`` builds for this input shape and class count."""
    if name not in MODELS:
        raise ValueError(f"unknown model '{name}' (choose from {', '.join(sorted(MODELS))})")
    return MODELS[name](tuple(input_shape), num_classes, **options)


def count_parameters(name: str, input_shape: Sequence[int], num_classes: int, **options: Any) -> int | None:
    """The number of parameters ``build_model`` would build, without building it; None for a
    builder that registered no count."""
    if name not in PARAMETER_COUNTS:
        return None
    return PARAMETER_COUNTS[name](tuple(input_shape), num_classes, **options)


def parameter_count(model: nn.Module) -> int:
    """The number of trainable values in ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
