"""The course's own PyTorch code for the plots, run in the worker next to student code.

Copied unchanged into the worker's folder, like ``toylang.py``. It holds no secret:
only the small models and probes the plots need around the student's modules.

* :func:`train_alignment` trains a tiny encoder-decoder (GRU decoder) whose attention is the
  student's ``AdditiveAttention`` (built by the request and passed in), then translates
  held-out sentences greedily and returns every step's alignment row.
* :func:`bert_attention` runs the student's ``MiniBert`` and records the weights each
  block's ``attention`` returns, as the block computes them.
* :func:`position_table` returns the learned position-embedding table.
"""

from __future__ import annotations

import torch
from torch import nn


class Seq2Seq(nn.Module):
    """Bahdanau et al.'s encoder-decoder, small: a word-and-position encoder, a GRU decoder.

    At output step i the decoder's previous state s_{i-1} is the query; the encoder's
    states are the keys and the values; the context and the previous word's embedding
    are the decoder's next input.
    """

    def __init__(self, attention, src_vocab: int, tgt_vocab: int, embed: int, hidden: int):
        super().__init__()
        key_dim = embed + 2 * hidden  # the attention's key size (and value size)
        self.src_embed = nn.Embedding(src_vocab, embed)
        self.tgt_embed = nn.Embedding(tgt_vocab, embed)
        self.position = nn.Embedding(16, embed)
        self.encoder = nn.Linear(2 * embed, 2 * hidden)
        self.cell = nn.GRUCell(embed + key_dim, hidden)
        self.out = nn.Linear(hidden + key_dim, tgt_vocab)
        self.attention = attention  # the student's module

    def encode(self, src, src_mask):
        # A key is the word itself and what the encoder makes of the word at its position.
        # Keys carry no context from their neighbours, so the attention has to point at
        # the one word the next output translates: the alignment comes out crisp.
        embedded = self.src_embed(src) * src_mask[..., None]
        positions = self.position(torch.arange(src.shape[1]))[None].expand_as(embedded)
        states = torch.cat([embedded, torch.tanh(self.encoder(torch.cat([embedded, positions], -1)))], -1)
        states = states * src_mask[..., None]
        return states, states.new_zeros(states.shape[0], self.cell.hidden_size)

    def step(self, prev_word, state, keys, src_mask):
        context, weights = self.attention(query=state[:, None, :], keys=keys, values=keys, key_mask=src_mask.bool())
        context = context[:, 0]
        state = self.cell(torch.cat([self.tgt_embed(prev_word), context], -1), state)
        return self.out(torch.cat([state, context], -1)), state, weights[:, 0]


def train_alignment(attention, src, src_mask, tgt_in, tgt_out, test_src, test_mask, *, src_vocab: int,
                    tgt_vocab: int, bos: int, steps: int, batch_size: int, lr: float, embed: int = 24,
                    hidden: int = 32, max_out: int = 8):
    """Train on (src, tgt) with teacher forcing, then decode ``test_src`` greedily.

    Returns (weights (N, max_out, T_src), predictions (N, max_out) int64, losses (steps,)).
    """
    model = Seq2Seq(attention, src_vocab, tgt_vocab, embed, hidden)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    mask = src_mask.float()
    generator = torch.Generator().manual_seed(0)
    losses = []
    for _ in range(steps):
        rows = torch.randint(0, src.shape[0], (batch_size,), generator=generator)
        keys, state = model.encode(src[rows], mask[rows])
        total = 0.0
        for i in range(tgt_in.shape[1]):  # teacher forcing: the right previous word as input
            logits, state, _ = model.step(tgt_in[rows, i], state, keys, mask[rows])
            total = total + nn.functional.cross_entropy(logits, tgt_out[rows, i], ignore_index=-1, reduction="sum")
        loss = total / (tgt_out[rows] >= 0).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    model.eval()
    with torch.no_grad():
        test_mask = test_mask.float()
        keys, state = model.encode(test_src, test_mask)
        word = torch.full((test_src.shape[0],), bos, dtype=torch.long)
        rows, words = [], []
        for _ in range(max_out):
            logits, state, weights = model.step(word, state, keys, test_mask)
            word = logits.argmax(-1)
            rows.append(weights)
            words.append(word)
    return (torch.stack(rows, 1).detach().float().clone(), torch.stack(words, 1).clone(),
            torch.tensor(losses, dtype=torch.float32))


def bert_attention(model, input_ids, key_mask):
    """What each block's ``attention`` returned in ``model(input_ids, key_mask=key_mask)``.

    Returns (maps (B, layers, heads, T, T), causal (B, heads, T, T)): ``causal`` is the
    first block's attention on the same input with ``causal=True``, as in a decoder.
    """
    seen, inputs = [], []

    def record(_module, args, kwargs, out):
        seen.append(out[1])
        inputs.append(args[0] if args else kwargs["x"])

    hooks = [block.attention.register_forward_hook(record, with_kwargs=True) for block in model.blocks]
    try:
        with torch.no_grad():
            model(input_ids=input_ids, key_mask=key_mask)
    finally:
        for hook in hooks:
            hook.remove()
    with torch.no_grad():
        _, causal = model.blocks[0].attention(inputs[0], key_mask=key_mask, causal=True)
    return torch.stack([w.detach().float() for w in seen], 1).clone(), causal.detach().float().clone()


def position_table(model):
    """The learned position-embedding table, (max_len, d_model)."""
    return model.position_embedding.weight.detach().float().clone()


def canonical_weights(model, names):
    """The values of the canonical weights ``names`` (see coursepack/testing/layouts.py), in order.

    The worker's adapter already maps canonical names to parameters (it loads canonical
    weights with the same map), so this only reads it; a kernel is stored transposed."""
    import torch_adapter  # loaded by the worker before any call

    params = torch_adapter.canonical_parameters(model)
    values = []
    for name in names:
        param, transposed = params[name]
        value = param.T if transposed else param
        values.append(value.detach().float().clone())
    return tuple(values)
