# Pieces of PyTorch's own examples and tutorials, written as their authors write them:
# fast neural style's TransformerNet blocks and Gram-matrix style loss; the super-resolution
# example's sub-pixel network; REINFORCE and actor-critic losses (fixed actions: the random
# streams of the two libraries differ); the N-gram language model and the LSTM part-of-speech
# tagger of the NLP tutorials.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.distributions import Categorical

rng = np.random.default_rng(59)


def init_(module):
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.tensor(rng.uniform(-0.3, 0.3, tuple(p.shape)), dtype=p.dtype))
    return module


# 1. fast_neural_style: ConvLayer (reflection pad), ResidualBlock (InstanceNorm affine), UpsampleConvLayer.
class ConvLayer(torch.nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride):
        super(ConvLayer, self).__init__()
        reflection_padding = kernel_size // 2
        self.reflection_pad = torch.nn.ReflectionPad2d(reflection_padding)
        self.conv2d = torch.nn.Conv2d(in_channels, out_channels, kernel_size, stride)

    def forward(self, x):
        out = self.reflection_pad(x)
        out = self.conv2d(out)
        return out


class ResidualBlock(torch.nn.Module):
    def __init__(self, channels):
        super(ResidualBlock, self).__init__()
        self.conv1 = ConvLayer(channels, channels, kernel_size=3, stride=1)
        self.in1 = torch.nn.InstanceNorm2d(channels, affine=True)
        self.conv2 = ConvLayer(channels, channels, kernel_size=3, stride=1)
        self.in2 = torch.nn.InstanceNorm2d(channels, affine=True)
        self.relu = torch.nn.ReLU()

    def forward(self, x):
        residual = x
        out = self.relu(self.in1(self.conv1(x)))
        out = self.in2(self.conv2(out))
        out = out + residual
        return out


class UpsampleConvLayer(torch.nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride, upsample=None):
        super(UpsampleConvLayer, self).__init__()
        self.upsample = upsample
        reflection_padding = kernel_size // 2
        self.reflection_pad = torch.nn.ReflectionPad2d(reflection_padding)
        self.conv2d = torch.nn.Conv2d(in_channels, out_channels, kernel_size, stride)

    def forward(self, x):
        x_in = x
        if self.upsample:
            x_in = torch.nn.functional.interpolate(x_in, mode='nearest', scale_factor=self.upsample)
        out = self.reflection_pad(x_in)
        out = self.conv2d(out)
        return out


class TransformerNet(torch.nn.Module):
    def __init__(self):
        super(TransformerNet, self).__init__()
        self.conv1 = ConvLayer(3, 4, kernel_size=5, stride=1)
        self.in1 = torch.nn.InstanceNorm2d(4, affine=True)
        self.conv2 = ConvLayer(4, 8, kernel_size=3, stride=2)
        self.in2 = torch.nn.InstanceNorm2d(8, affine=True)
        self.res1 = ResidualBlock(8)
        self.deconv1 = UpsampleConvLayer(8, 4, kernel_size=3, stride=1, upsample=2)
        self.in4 = torch.nn.InstanceNorm2d(4, affine=True)
        self.deconv3 = ConvLayer(4, 3, kernel_size=5, stride=1)
        self.relu = torch.nn.ReLU()

    def forward(self, X):
        y = self.relu(self.in1(self.conv1(X)))
        y = self.relu(self.in2(self.conv2(y)))
        y = self.res1(y)
        y = self.relu(self.in4(self.deconv1(y)))
        y = self.deconv3(y)
        return y


def gram_matrix(y):
    (b, ch, h, w) = y.size()
    features = y.view(b, ch, w * h)
    features_t = features.transpose(1, 2)
    gram = features.bmm(features_t) / (ch * h * w)
    return gram


def normalize_batch(batch):
    # normalize using imagenet mean and std
    mean = batch.new_tensor([0.485, 0.456, 0.406]).view(-1, 1, 1)
    std = batch.new_tensor([0.229, 0.224, 0.225]).view(-1, 1, 1)
    batch = batch.div_(255.0)
    return (batch - mean) / std


transformer = init_(TransformerNet()).double()
style = torch.tensor(rng.uniform(0, 255, (1, 3, 8, 8)))
gram_style = gram_matrix(normalize_batch(style.clone()))
optimizer = torch.optim.Adam(transformer.parameters(), 1e-3)
mse_loss = torch.nn.MSELoss()
style_losses = []
for batch_id in range(3):
    x = torch.tensor(rng.uniform(0, 255, (2, 3, 8, 8)))
    n_batch = len(x)
    optimizer.zero_grad()
    y = transformer(x)
    y = normalize_batch(y)
    x = normalize_batch(x)
    content_loss = 1e5 * mse_loss(y, x)
    gm_y = gram_matrix(y)
    style_loss = 1e10 * mse_loss(gm_y, gram_style[:n_batch, :, :].expand_as(gm_y))
    total_loss = content_loss + style_loss
    total_loss.backward()
    optimizer.step()
    style_losses.append(total_loss.item())
print("style", ["%.6g" % v for v in style_losses])


# 2. super_resolution: sub-pixel convolution, orthogonal init replaced by drawn weights.
class Net(nn.Module):
    def __init__(self, upscale_factor):
        super(Net, self).__init__()

        self.relu = nn.ReLU()
        self.conv1 = nn.Conv2d(1, 8, (5, 5), (1, 1), (2, 2))
        self.conv2 = nn.Conv2d(8, 8, (3, 3), (1, 1), (1, 1))
        self.conv4 = nn.Conv2d(8, upscale_factor ** 2, (3, 3), (1, 1), (1, 1))
        self.pixel_shuffle = nn.PixelShuffle(upscale_factor)

    def forward(self, x):
        x = self.relu(self.conv1(x))
        x = self.relu(self.conv2(x))
        x = self.pixel_shuffle(self.conv4(x))
        return x


sr = init_(Net(upscale_factor=3)).double()
criterion = nn.MSELoss()
optimizer = optim.Adam(sr.parameters(), lr=0.01)
low, high = torch.tensor(rng.random((4, 1, 5, 5))), torch.tensor(rng.random((4, 1, 15, 15)))
for epoch in range(3):
    optimizer.zero_grad()
    loss = criterion(sr(low), high)
    loss.backward()
    optimizer.step()
with torch.no_grad():
    mse = criterion(sr(low), high)
    psnr = 10 * np.log10(1 / mse.item())
print("psnr %.6f" % psnr)

# 3. reinforcement_learning: REINFORCE and actor-critic, the episode's actions fixed.
eps = np.finfo(np.float32).eps.item()


class Policy(nn.Module):
    def __init__(self):
        super(Policy, self).__init__()
        self.affine1 = nn.Linear(4, 16)
        self.dropout = nn.Dropout(p=0.6)
        self.affine2 = nn.Linear(16, 2)
        self.action_head = nn.Linear(16, 2)
        self.value_head = nn.Linear(16, 1)
        self.saved_log_probs = []
        self.rewards = []

    def forward(self, x):
        x = F.relu(self.affine1(x))
        action_scores = self.affine2(x)
        return F.softmax(action_scores, dim=1), self.value_head(x)


policy = init_(Policy()).double().eval()  # eval: dropout off, for the same numbers
optimizer = optim.Adam(policy.parameters(), lr=1e-2)
states = rng.standard_normal((6, 4))
actions = [0, 1, 1, 0, 1, 0]
values = []
for state, chosen in zip(states, actions):
    state = torch.from_numpy(state).float().double().unsqueeze(0)
    probs, state_value = policy(state)
    m = Categorical(probs)
    action = torch.tensor([chosen])
    policy.saved_log_probs.append(m.log_prob(action))
    values.append(state_value)
    policy.rewards.append(float(chosen) + 0.5)
R = 0
policy_loss, value_losses = [], []
returns = []
for r in policy.rewards[::-1]:
    R = r + 0.99 * R
    returns.insert(0, R)
returns = torch.tensor(returns)
returns = (returns - returns.mean()) / (returns.std() + eps)
for log_prob, value, R in zip(policy.saved_log_probs, values, returns):
    advantage = R - value.item()
    policy_loss.append(-log_prob * advantage)
    value_losses.append(F.smooth_l1_loss(value, torch.tensor([[R]], dtype=torch.double)))
optimizer.zero_grad()
loss = torch.cat(policy_loss).sum() + torch.stack(value_losses).sum()
loss.backward()
optimizer.step()
print("rl loss %.5f" % loss.item(), "entropy %.8f" % m.entropy().item())  # returns are float32: sums round apart

# 4. N-gram language model (word embeddings tutorial).
CONTEXT_SIZE = 2
EMBEDDING_DIM = 10
test_sentence = """When forty winters shall besiege thy brow,
And dig deep trenches in thy beauty's field,
Thy youth's proud livery so gazed on now,
Will be a totter'd weed of small worth held:""".split()
ngrams = [
    (
        [test_sentence[i - j - 1] for j in range(CONTEXT_SIZE)],
        test_sentence[i]
    )
    for i in range(CONTEXT_SIZE, len(test_sentence))
]
vocab = set(test_sentence)
word_to_ix = {word: i for i, word in enumerate(sorted(vocab))}


class NGramLanguageModeler(nn.Module):

    def __init__(self, vocab_size, embedding_dim, context_size):
        super(NGramLanguageModeler, self).__init__()
        self.embeddings = nn.Embedding(vocab_size, embedding_dim)
        self.linear1 = nn.Linear(context_size * embedding_dim, 128)
        self.linear2 = nn.Linear(128, vocab_size)

    def forward(self, inputs):
        embeds = self.embeddings(inputs).view((1, -1))
        out = F.relu(self.linear1(embeds))
        out = self.linear2(out)
        log_probs = F.log_softmax(out, dim=1)
        return log_probs


losses = []
loss_function = nn.NLLLoss()
model = init_(NGramLanguageModeler(len(vocab), EMBEDDING_DIM, CONTEXT_SIZE))
optimizer = optim.SGD(model.parameters(), lr=0.001)
for epoch in range(3):
    total_loss = 0
    for context, target in ngrams:
        context_idxs = torch.tensor([word_to_ix[w] for w in context], dtype=torch.long)
        model.zero_grad()
        log_probs = model(context_idxs)
        loss = loss_function(log_probs, torch.tensor([word_to_ix[target]], dtype=torch.long))
        loss.backward()
        optimizer.step()
        total_loss += loss.item()
    losses.append(total_loss)
print("ngram", ["%.4f" % v for v in losses])
beauty = model.embeddings.weight[word_to_ix["thy"]]


# 5. LSTM part-of-speech tagger (sequence models tutorial).
def prepare_sequence(seq, to_ix):
    idxs = [to_ix[w] for w in seq]
    return torch.tensor(idxs, dtype=torch.long)


training_data = [
    ("The dog ate the apple".split(), ["DET", "NN", "V", "DET", "NN"]),
    ("Everybody read that book".split(), ["NN", "V", "DET", "NN"])
]
word_to_ix = {}
for sent, tags in training_data:
    for word in sent:
        if word not in word_to_ix:
            word_to_ix[word] = len(word_to_ix)
tag_to_ix = {"DET": 0, "NN": 1, "V": 2}


class LSTMTagger(nn.Module):

    def __init__(self, embedding_dim, hidden_dim, vocab_size, tagset_size):
        super(LSTMTagger, self).__init__()
        self.hidden_dim = hidden_dim
        self.word_embeddings = nn.Embedding(vocab_size, embedding_dim)
        self.lstm = nn.LSTM(embedding_dim, hidden_dim)
        self.hidden2tag = nn.Linear(hidden_dim, tagset_size)

    def forward(self, sentence):
        embeds = self.word_embeddings(sentence)
        lstm_out, _ = self.lstm(embeds.view(len(sentence), 1, -1))
        tag_space = self.hidden2tag(lstm_out.view(len(sentence), -1))
        tag_scores = F.log_softmax(tag_space, dim=1)
        return tag_scores


tagger = init_(LSTMTagger(6, 6, len(word_to_ix), len(tag_to_ix)))
loss_function = nn.NLLLoss()
optimizer = optim.SGD(tagger.parameters(), lr=0.1)
for epoch in range(5):
    for sentence, tags in training_data:
        tagger.zero_grad()
        sentence_in = prepare_sequence(sentence, word_to_ix)
        targets = prepare_sequence(tags, tag_to_ix)
        tag_scores = tagger(sentence_in)
        loss = loss_function(tag_scores, targets)
        loss.backward()
        optimizer.step()
with torch.no_grad():
    inputs = prepare_sequence(training_data[0][0], word_to_ix)
    tag_scores = tagger(inputs)
    print("tags", tag_scores.argmax(dim=1).tolist())

results = {"style": torch.tensor(style_losses), "transformer": transformer.conv1.conv2d.weight.detach(),
           "sr": sr.conv4.weight.detach(), "policy": policy.affine1.weight.detach(), "ngram": losses,
           "beauty": beauty.detach(), "tag_scores": tag_scores, "lstm": tagger.lstm.weight_hh_l0.detach()}
