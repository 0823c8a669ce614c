"""The reference solutions agree with implementations nobody here wrote.

PyTorch's own scaled_dot_product_attention and MultiheadAttention, and a tiny-config
Hugging Face BertModel (random initialisation, nothing downloaded) with the mini-BERT's
weights transplanted. The solutions are imported here directly: this is the
instructor's side, the judge never does this with a submission.
"""

from __future__ import annotations

import sys

import pytest
import torch
import torch.nn.functional as F

from conftest import REPO

sys.path.insert(0, str(REPO / "solutions"))
from course_torch.attention import scaled_dot_product_attention  # noqa: E402
from course_torch.bert import MiniBert  # noqa: E402
from course_torch.multihead import MultiHeadAttention  # noqa: E402

ATOL = 1e-5


def key_mask(lengths, length):
    return torch.arange(length)[None, :] < torch.tensor(lengths)[:, None]


def test_sdpa_matches_torch_with_padding_mask():
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(3, 4, 5, 8, generator=g), torch.randn(3, 4, 7, 8, generator=g),
               torch.randn(3, 4, 7, 6, generator=g))
    mask = key_mask([7, 4, 1], 7)[:, None, None, :]
    ours, _ = scaled_dot_product_attention(q, k, v, mask=mask)
    theirs = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    torch.testing.assert_close(ours, theirs, atol=ATOL, rtol=1e-5)


def test_sdpa_matches_torch_causal_and_arbitrary_mask():
    g = torch.Generator().manual_seed(1)
    q, k, v = (torch.randn(2, 3, 6, 4, generator=g) for _ in range(3))
    ours, _ = scaled_dot_product_attention(q, k, v, causal=True)
    torch.testing.assert_close(ours, F.scaled_dot_product_attention(q, k, v, is_causal=True), atol=ATOL, rtol=1e-5)
    mask = torch.rand(2, 3, 6, 6, generator=g) < 0.7
    mask[..., 0] = True  # no fully masked row: torch gives NaN there, we give zeros
    ours, _ = scaled_dot_product_attention(q, k, v, mask=mask)
    torch.testing.assert_close(ours, F.scaled_dot_product_attention(q, k, v, attn_mask=mask), atol=ATOL, rtol=1e-5)


def _transplant_mha(ours: MultiHeadAttention, d_model: int, heads: int) -> torch.nn.MultiheadAttention:
    theirs = torch.nn.MultiheadAttention(d_model, heads, batch_first=True)
    with torch.no_grad():
        theirs.in_proj_weight.copy_(torch.cat([ours.w_q.weight, ours.w_k.weight, ours.w_v.weight]))
        theirs.in_proj_bias.copy_(torch.cat([ours.w_q.bias, ours.w_k.bias, ours.w_v.bias]))
        theirs.out_proj.weight.copy_(ours.w_o.weight)
        theirs.out_proj.bias.copy_(ours.w_o.bias)
    return theirs.eval()


@pytest.mark.parametrize("cross", [False, True])
def test_multihead_matches_torch_multihead_attention(cross):
    torch.manual_seed(2)
    ours = MultiHeadAttention(12, 4).eval()
    theirs = _transplant_mha(ours, 12, 4)
    x = torch.randn(3, 5, 12)
    context = torch.randn(3, 7, 12) if cross else x
    mask = key_mask([7, 3, 5] if cross else [5, 2, 4], context.shape[1])
    out, weights = ours(x, context if cross else None, key_mask=mask)
    ref_out, ref_weights = theirs(x, context, context, key_padding_mask=~mask, average_attn_weights=False)
    torch.testing.assert_close(out, ref_out, atol=ATOL, rtol=1e-5)
    torch.testing.assert_close(weights, ref_weights, atol=ATOL, rtol=1e-5)


def test_multihead_causal_matches_torch():
    torch.manual_seed(3)
    ours = MultiHeadAttention(8, 2).eval()
    theirs = _transplant_mha(ours, 8, 2)
    x = torch.randn(2, 6, 8)
    causal = torch.ones(6, 6, dtype=torch.bool).triu(1)  # torch: True = blocked
    out, _ = ours(x, causal=True)
    ref, _ = theirs(x, x, x, attn_mask=causal)
    torch.testing.assert_close(out, ref, atol=ATOL, rtol=1e-5)


def _bert_pair(vocab=31, max_len=12, d=16, heads=4, d_ff=24, layers=2, segments=2):
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(4)
    ours = MiniBert(vocab, max_len, d, heads, d_ff, layers, num_segments=segments, num_classes=3, dropout=0.0).eval()
    config = transformers.BertConfig(
        vocab_size=vocab, hidden_size=d, num_hidden_layers=layers, num_attention_heads=heads,
        intermediate_size=d_ff, max_position_embeddings=max_len, type_vocab_size=segments, hidden_act="gelu",
        layer_norm_eps=1e-12, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    theirs = transformers.BertForMaskedLM(config).eval()
    bert = theirs.bert
    pairs = [
        (bert.embeddings.word_embeddings, ours.token_embedding),
        (bert.embeddings.position_embeddings, ours.position_embedding),
        (bert.embeddings.token_type_embeddings, ours.segment_embedding),
        (bert.embeddings.LayerNorm, ours.embedding_norm),
        (theirs.cls.predictions.transform.dense, ours.mlm_dense),
        (theirs.cls.predictions.transform.LayerNorm, ours.mlm_norm),
    ]
    for layer, block in zip(bert.encoder.layer, ours.blocks):
        pairs += [(layer.attention.self.query, block.attention.w_q), (layer.attention.self.key, block.attention.w_k),
                  (layer.attention.self.value, block.attention.w_v), (layer.attention.output.dense, block.attention.w_o),
                  (layer.attention.output.LayerNorm, block.attention_norm), (layer.intermediate.dense, block.ff_in),
                  (layer.output.dense, block.ff_out), (layer.output.LayerNorm, block.ff_norm)]
    with torch.no_grad():
        for dst, src in pairs:
            for name, param in src.named_parameters():
                getattr(dst, name).copy_(param)
        theirs.cls.predictions.bias.copy_(ours.mlm_bias)
    return ours, theirs


def test_mini_bert_matches_hugging_face_bert():
    ours, theirs = _bert_pair()
    g = torch.Generator().manual_seed(5)
    ids = torch.randint(4, 31, (3, 10), generator=g)
    segments = torch.randint(0, 2, (3, 10), generator=g)
    mask = key_mask([10, 6, 3], 10)
    hidden = ours(ids, segment_ids=segments, key_mask=mask)
    out = theirs(input_ids=ids, token_type_ids=segments, attention_mask=mask.long(), output_hidden_states=True)
    ref_hidden = out.hidden_states[-1]
    torch.testing.assert_close(hidden, ref_hidden, atol=1e-5, rtol=1e-4)
    # Tied weights: Hugging Face ties its decoder to the word embeddings as well.
    torch.testing.assert_close(ours.mlm_logits(hidden), out.logits, atol=1e-4, rtol=1e-4)
    # The [CLS] pooler: a BertModel (which has one) with the same encoder weights.
    transformers = pytest.importorskip("transformers")
    with_pooler = transformers.BertModel(theirs.config, add_pooling_layer=True).eval()
    missing, _ = with_pooler.load_state_dict(theirs.bert.state_dict(), strict=False)
    assert all(name.startswith("pooler.") for name in missing)
    with torch.no_grad():
        with_pooler.pooler.dense.weight.copy_(ours.pooler.weight)
        with_pooler.pooler.dense.bias.copy_(ours.pooler.bias)
    ref = with_pooler(input_ids=ids, token_type_ids=segments, attention_mask=mask.long())
    torch.testing.assert_close(ref.last_hidden_state, ref_hidden, atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(ours.pooled(hidden), ref.pooler_output, atol=1e-5, rtol=1e-4)
