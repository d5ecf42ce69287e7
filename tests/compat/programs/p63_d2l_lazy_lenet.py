# LeNet the way the "Dive into Deep Learning" book writes it: lazy layers whose sizes come from
# a dummy batch, a layer-by-layer shape printout, xavier initialisation applied after that first
# call, then minibatch SGD on a shuffled DataLoader, with every random number from torch's seed.
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(7)
torch.set_default_dtype(torch.float64)


def init_cnn(module):
    if type(module) == nn.Linear or type(module) == nn.Conv2d:
        nn.init.xavier_uniform_(module.weight)


net = nn.Sequential(
    nn.LazyConv2d(6, kernel_size=5, padding=2), nn.Sigmoid(),
    nn.AvgPool2d(kernel_size=2, stride=2),
    nn.LazyConv2d(16, kernel_size=5), nn.Sigmoid(),
    nn.AvgPool2d(kernel_size=2, stride=2),
    nn.Flatten(),
    nn.LazyLinear(120), nn.Sigmoid(),
    nn.LazyLinear(84), nn.Sigmoid(),
    nn.LazyLinear(10))

X = torch.randn(1, 1, 28, 28)
for layer in net:
    X = layer(X)
    print(layer.__class__.__name__, "output shape:\t", X.shape)
net.apply(init_cnn)

images = torch.rand(64, 1, 28, 28)
labels = torch.randint(0, 10, (64,))
loader = DataLoader(TensorDataset(images, labels), batch_size=16, shuffle=True)
optimizer = torch.optim.SGD(net.parameters(), lr=0.9)
loss_fn = nn.CrossEntropyLoss()
losses = []
for epoch in range(3):
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(net(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    print(f"epoch {epoch + 1}, loss {losses[-1]:.6f}")

results = {"losses": losses, "conv1": net[0].weight.detach(), "fc3_bias": net[11].bias.detach(),
           "parameters": sum(p.numel() for p in net.parameters())}
