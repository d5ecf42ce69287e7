# PyTorch's word_language_model example, transformer flavour: TransformerModel (a subclass of
# nn.Transformer whose decoder is replaced by a Linear), sinusoidal positional encoding in a
# buffer, a causal mask made with log(tril(ones)), batchify/get_batch, NLL loss, gradient
# clipping and a hand-written SGD update, then evaluation.
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, dropout=0.1, max_len=5000):
        super(PositionalEncoding, self).__init__()
        self.dropout = nn.Dropout(p=dropout)
        pe = torch.zeros(max_len, d_model)
        position = torch.arange(0, max_len, dtype=torch.float).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model))
        pe[:, 0::2] = torch.sin(position * div_term)
        pe[:, 1::2] = torch.cos(position * div_term)
        pe = pe.unsqueeze(0).transpose(0, 1)
        self.register_buffer("pe", pe)

    def forward(self, x):
        x = x + self.pe[:x.size(0), :]
        return self.dropout(x)


class TransformerModel(nn.Transformer):
    def __init__(self, ntoken, ninp, nhead, nhid, nlayers, dropout=0.5):
        super(TransformerModel, self).__init__(d_model=ninp, nhead=nhead, dim_feedforward=nhid,
                                               num_encoder_layers=nlayers, num_decoder_layers=1, dropout=dropout)
        self.model_type = "Transformer"
        self.src_mask = None
        self.pos_encoder = PositionalEncoding(ninp, dropout, max_len=64)
        self.input_emb = nn.Embedding(ntoken, ninp)
        self.ninp = ninp
        self.decoder = nn.Linear(ninp, ntoken)
        self.init_weights()

    def _generate_square_subsequent_mask(self, sz):
        return torch.log(torch.tril(torch.ones(sz, sz)))

    def init_weights(self):
        initrange = 0.1
        nn.init.uniform_(self.input_emb.weight, -initrange, initrange)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -initrange, initrange)

    def forward(self, src, has_mask=True):
        if has_mask:
            device = src.device
            if self.src_mask is None or self.src_mask.size(0) != len(src):
                mask = self._generate_square_subsequent_mask(len(src)).to(device)
                self.src_mask = mask
        else:
            self.src_mask = None
        src = self.input_emb(src) * math.sqrt(self.ninp)
        src = self.pos_encoder(src)
        output = self.encoder(src, mask=self.src_mask)
        output = self.decoder(output)
        return F.log_softmax(output, dim=-1)


def batchify(data, bsz):
    nbatch = data.size(0) // bsz
    data = data.narrow(0, 0, nbatch * bsz)
    return data.view(bsz, -1).t().contiguous()


def get_batch(source, i, bptt=8):
    seq_len = min(bptt, len(source) - 1 - i)
    data = source[i:i + seq_len]
    target = source[i + 1:i + 1 + seq_len].view(-1)
    return data, target


rng = np.random.default_rng(52)
ntokens = 20
# A corpus with structure to learn: counting runs with noise.
words = [(3 * i + int(rng.integers(0, 3))) % ntokens for i in range(400)]
corpus = torch.tensor(words, dtype=torch.long)
train_data = batchify(corpus[:320], 4)
val_data = batchify(corpus[320:], 2)

torch.manual_seed(0)
model = TransformerModel(ntokens, 16, 2, 32, 2, dropout=0.0)
with torch.no_grad():
    for name, p in model.named_parameters():
        p.copy_(torch.from_numpy((rng.standard_normal(tuple(p.shape)) * 0.2).astype(np.float32)))
        if "norm" in name and name.endswith("weight"):
            p.add_(1.0)
criterion = nn.NLLLoss()
print(model.model_type, sum(p.numel() for p in model.parameters()), model.encoder.layers[0].self_attn)
print(sorted(name for name, _ in model.named_parameters() if name.startswith("encoder.layers.0")))

lr, bptt, clip = 1.0, 8, 0.5
losses = []
for epoch in range(1, 4):
    model.train()
    for batch, i in enumerate(range(0, train_data.size(0) - 1, bptt)):
        data, targets = get_batch(train_data, i, bptt)
        model.zero_grad()
        output = model(data)
        output = output.view(-1, ntokens)
        loss = criterion(output, targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        for p in model.parameters():
            p.data.add_(p.grad, alpha=-lr)
        losses.append(loss.item())
    print(f"| epoch {epoch:3d} | lr {lr:02.2f} | loss {loss.item():5.3f} | ppl {math.exp(loss.item()):8.3f}")

model.eval()
total_loss = 0.0
with torch.no_grad():
    for i in range(0, val_data.size(0) - 1, bptt):
        data, targets = get_batch(val_data, i, bptt)
        output = model(data)
        total_loss += len(data) * criterion(output.view(-1, ntokens), targets).item()
val_loss = total_loss / (len(val_data) - 1)
print(f"| end of training | valid loss {val_loss:5.3f} | valid ppl {math.exp(val_loss):8.3f}")
mask_is_causal = bool(torch.equal(model.src_mask, nn.Transformer.generate_square_subsequent_mask(bptt)))
results = {"losses": losses, "val_loss": val_loss, "mask": model.src_mask, "causal": mask_is_causal,
           "emb_grad": model.input_emb.weight.grad, "last_output": output[-1].detach()}
