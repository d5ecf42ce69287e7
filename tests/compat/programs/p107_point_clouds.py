# Point-cloud networks the way PointNet / PointNet++ / PointPillars PyTorch ports write them: PointNet's STN3d
# (Conv1d stack, torch.max over points with keepdim, the identity added as a flattened eye repeated over the
# batch, torch.bmm), the feature-transform regulariser ||I - A A^T||, farthest point sampling with a distance
# buffer updated by torch.min and torch.max(...)[1], square_distance by -2 * matmul + sums, index_points with
# an arange batch index view/repeat, query_ball_point (sort, a group_first fallback where a radius is empty),
# k-nearest neighbours by topk(largest=False), DGCNN's EdgeConv graph feature; and pillar-style voxelisation:
# floor to cells, torch.unique(return_inverse=True, dim=0), per-pillar max and mean pooling with index_reduce_
# (and scatter_reduce for comparison), a BEV canvas written with index_put_.
import torch
import torch.nn as nn
import torch.nn.functional as F


class STN3d(nn.Module):
    def __init__(self, channel=3):
        super(STN3d, self).__init__()
        self.conv1 = torch.nn.Conv1d(channel, 16, 1)
        self.conv2 = torch.nn.Conv1d(16, 32, 1)
        self.fc1 = nn.Linear(32, 16)
        self.fc2 = nn.Linear(16, 9)
        self.relu = nn.ReLU()
        self.bn1 = nn.BatchNorm1d(16)
        self.bn2 = nn.BatchNorm1d(32)

    def forward(self, x):
        batchsize = x.size()[0]
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        x = torch.max(x, 2, keepdim=True)[0]
        x = x.view(-1, 32)
        x = F.relu(self.fc1(x))
        x = self.fc2(x)
        iden = torch.eye(3).flatten().view(1, 9).repeat(batchsize, 1)
        x = x + iden
        return x.view(-1, 3, 3)


def feature_transform_reguliarzer(trans):
    d = trans.size()[1]
    I = torch.eye(d)[None, :, :]
    return torch.mean(torch.norm(torch.bmm(trans, trans.transpose(2, 1)) - I, dim=(1, 2)))


class PointNetCls(nn.Module):
    def __init__(self, k=4):
        super().__init__()
        self.stn = STN3d()
        self.conv1 = nn.Conv1d(3, 16, 1)
        self.conv2 = nn.Conv1d(16, 64, 1)
        self.bn1 = nn.BatchNorm1d(16)
        self.bn2 = nn.BatchNorm1d(64)
        self.fc = nn.Sequential(nn.Linear(64, 32), nn.Dropout(p=0.3), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, k))

    def forward(self, x):
        trans = self.stn(x)
        x = x.transpose(2, 1)
        x = torch.bmm(x, trans)
        x = x.transpose(2, 1)
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.bn2(self.conv2(x))
        x = torch.max(x, 2, keepdim=True)[0].view(-1, 64)
        return F.log_softmax(self.fc(x), dim=1), trans


def square_distance(src, dst):
    B, N, _ = src.shape
    _, M, _ = dst.shape
    dist = -2 * torch.matmul(src, dst.permute(0, 2, 1))
    dist += torch.sum(src ** 2, -1).view(B, N, 1)
    dist += torch.sum(dst ** 2, -1).view(B, 1, M)
    return dist


def index_points(points, idx):
    device = points.device
    B = points.shape[0]
    view_shape = list(idx.shape)
    view_shape[1:] = [1] * (len(view_shape) - 1)
    repeat_shape = list(idx.shape)
    repeat_shape[0] = 1
    batch_indices = torch.arange(B, dtype=torch.long).to(device).view(view_shape).repeat(repeat_shape)
    return points[batch_indices, idx, :]


def farthest_point_sample(xyz, npoint):
    device = xyz.device
    B, N, C = xyz.shape
    centroids = torch.zeros(B, npoint, dtype=torch.long).to(device)
    distance = torch.ones(B, N).to(device) * 1e10
    farthest = torch.randint(0, N, (B,), dtype=torch.long).to(device)
    batch_indices = torch.arange(B, dtype=torch.long).to(device)
    for i in range(npoint):
        centroids[:, i] = farthest
        centroid = xyz[batch_indices, farthest, :].view(B, 1, 3)
        dist = torch.sum((xyz - centroid) ** 2, -1)
        mask = dist < distance
        distance[mask] = dist[mask]
        farthest = torch.max(distance, -1)[1]
    return centroids


def query_ball_point(radius, nsample, xyz, new_xyz):
    device = xyz.device
    B, N, C = xyz.shape
    _, S, _ = new_xyz.shape
    group_idx = torch.arange(N, dtype=torch.long).to(device).view(1, 1, N).repeat([B, S, 1])
    sqrdists = square_distance(new_xyz, xyz)
    group_idx[sqrdists > radius ** 2] = N
    group_idx = group_idx.sort(dim=-1)[0][:, :, :nsample]
    group_first = group_idx[:, :, 0].view(B, S, 1).repeat([1, 1, nsample])
    mask = group_idx == N
    group_idx[mask] = group_first[mask]
    return group_idx


def knn(x, k):
    inner = -2 * torch.matmul(x.transpose(2, 1), x)
    xx = torch.sum(x ** 2, dim=1, keepdim=True)
    pairwise_distance = -xx - inner - xx.transpose(2, 1)
    return pairwise_distance.topk(k=k, dim=-1)[1]


def get_graph_feature(x, k=4):
    batch_size, num_dims, num_points = x.size()
    idx = knn(x, k=k)
    idx_base = torch.arange(0, batch_size).view(-1, 1, 1) * num_points
    idx = (idx + idx_base).view(-1)
    x = x.transpose(2, 1).contiguous()
    feature = x.view(batch_size * num_points, -1)[idx, :]
    feature = feature.view(batch_size, num_points, k, num_dims)
    x = x.view(batch_size, num_points, 1, num_dims).repeat(1, 1, k, 1)
    return torch.cat((feature - x, x), dim=3).permute(0, 3, 1, 2).contiguous()


torch.manual_seed(0)
B, N = 8, 32
labels = torch.arange(B) % 4
shapes = torch.randn(B, N, 3)
shapes[labels == 1] *= torch.tensor([2.0, 0.3, 0.3])
shapes[labels == 2] = F.normalize(shapes[labels == 2], dim=-1)
shapes[labels == 3, :, 2] = 0.0
points = shapes.transpose(2, 1)
model = PointNetCls()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-08, weight_decay=1e-4)
history = []
for step in range(6):
    model.train()
    pred, trans = model(points)
    loss = F.nll_loss(pred, labels) + 0.001 * feature_transform_reguliarzer(trans)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    history.append(round(loss.item(), 6))
model.eval()
with torch.no_grad():
    pred, trans = model(points)
print("pointnet", history, pred.argmax(1).tolist())

xyz = shapes
fps_idx = farthest_point_sample(xyz, 6)
new_xyz = index_points(xyz, fps_idx)
groups = query_ball_point(1.5, 5, xyz, new_xyz)
grouped = index_points(xyz, groups) - new_xyz.view(B, 6, 1, 3)
print("fps", fps_idx[0].tolist(), "groups", groups[0, 0].tolist(), tuple(grouped.shape))
edge = get_graph_feature(points[:2], k=4)
edge_conv = nn.Sequential(nn.Conv2d(6, 8, 1, bias=False), nn.BatchNorm2d(8), nn.LeakyReLU(0.2))
edge_out = edge_conv(edge).max(dim=-1, keepdim=False)[0]
print("edge", tuple(edge.shape), tuple(edge_out.shape))

# pillars: points binned into a 4x4 grid of cells, pooled per occupied cell
cloud = torch.rand(40, 4) * torch.tensor([4.0, 4.0, 1.0, 1.0])
cells = cloud[:, :2].floor().long()
coords, inverse = torch.unique(cells, dim=0, return_inverse=True)
num_pillars = coords.shape[0]
pfn = nn.Linear(4, 6)
feats = F.relu(pfn(cloud))
pillar_max = torch.full((num_pillars, 6), float("-inf")).index_reduce_(0, inverse, feats, "amax")
pillar_mean = torch.zeros(num_pillars, 6).index_reduce(0, inverse, feats, "mean", include_self=False)
check_max = torch.zeros(num_pillars, 6).scatter_reduce(0, inverse[:, None].expand(-1, 6), feats, "amax",
                                                       include_self=False)
counts = torch.bincount(inverse, minlength=num_pillars)
canvas = torch.zeros(6, 4, 4)
canvas.index_put_((torch.arange(6)[:, None], coords[:, 1][None, :], coords[:, 0][None, :]), pillar_max.t())
(canvas.sum() + pillar_mean.pow(2).sum()).backward()
print("pillars", num_pillars, counts.tolist(), torch.equal(pillar_max, check_max))
results = {"history": history, "pred": pred, "trans": trans, "fps": fps_idx, "groups": groups, "grouped": grouped,
           "edge_out": edge_out.detach(), "pillar_max": pillar_max.detach(), "pillar_mean": pillar_mean.detach(),
           "canvas": canvas.detach(), "pfn_grad": pfn.weight.grad, "inverse": inverse}
