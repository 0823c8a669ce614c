"""Classic student mistakes, applied to the reference solutions, each lose points.

Every mutation is a small textual edit of a copy of solutions/; the copy is graded on
the task the mistake belongs to, and must score less than full marks there.
"""

from __future__ import annotations

import pytest

from coursepack.grading import grade
from submissions import edit, make_submission

MUTATIONS = {
    "missing 1/sqrt(d_k)": ("sdpa", "attention.py", [
        ("scores = query @ key.transpose(-2, -1) / math.sqrt(d_k)", "scores = query @ key.transpose(-2, -1)")]),
    "softmax over the wrong axis": ("sdpa", "attention.py", [
        ("torch.softmax(scores, dim=-1)", "torch.softmax(scores, dim=-2)"),
        ("torch.softmax(filled, dim=-1)", "torch.softmax(filled, dim=-2)")]),
    "inverted mask": ("sdpa", "attention.py", [
        ("filled = torch.where(mask, scores, very_negative)", "filled = torch.where(~mask, scores, very_negative)"),
        ("return torch.where(mask, weights,", "return torch.where(~mask, weights,")]),
    "heads split without the transpose": ("multihead", "multihead.py", [
        ("return x.view(batch, length, self.num_heads, self.d_head).transpose(1, 2)",
         "return x.reshape(batch, self.num_heads, length, self.d_head)")]),
    "heads merged in the wrong order": ("multihead", "multihead.py", [
        ("return x.transpose(1, 2).reshape(batch, length, self.num_heads * self.d_head)",
         "return x.reshape(batch, length, self.num_heads * self.d_head)")]),
    "sin and cos swapped": ("sinusoidal", "positional.py", [
        ("table[:, 0::2] = torch.sin(angles)\n    table[:, 1::2] = torch.cos(angles)",
         "table[:, 0::2] = torch.cos(angles)\n    table[:, 1::2] = torch.sin(angles)")]),
    "position not added": ("learned_position", "positional.py", [
        ("return self.token(input_ids) + self.position(positions)", "return self.token(input_ids)")]),
    "pre-LN instead of post-LN": ("encoder_block", "encoder.py", [
        ("attended, _ = self.attention(x, key_mask=key_mask)\n"
         "        h = self.attention_norm(x + self.dropout(attended))\n"
         "        transformed = self.ff_out(F.gelu(self.ff_in(h)))\n"
         "        return self.ff_norm(h + self.dropout(transformed))",
         "attended, _ = self.attention(self.attention_norm(x), key_mask=key_mask)\n"
         "        h = x + self.dropout(attended)\n"
         "        transformed = self.ff_out(F.gelu(self.ff_in(self.ff_norm(h))))\n"
         "        return h + self.dropout(transformed)")]),
    "special tokens masked": ("mask_tokens", "bert.py", [
        ("selected = (u < mask_prob) & ~is_special", "selected = u < mask_prob")]),
    "80/10/10 proportions wrong": ("mask_tokens", "bert.py", [
        ("to_mask = selected & (r < replace_prob)", "to_mask = selected & (r < 0.6)"),
        ("(r >= replace_prob) & (r < replace_prob + random_prob)", "(r >= 0.6) & (r < 0.6 + random_prob)")]),
    "weights not tied": ("mini_bert", "bert.py", [
        ("self.mlm_bias = nn.Parameter(torch.zeros(vocab_size))",
         "self.mlm_bias = nn.Parameter(torch.zeros(vocab_size))\n"
         "        self.mlm_decoder = nn.Linear(d_model, vocab_size, bias=False)"),
        ("return transformed @ self.token_embedding.weight.T + self.mlm_bias",
         "return self.mlm_decoder(transformed) + self.mlm_bias")]),
}



# The same mistakes in the TensorFlow solutions.
TF_EDITS = {
    "missing 1/sqrt(d_k)": [("scores = tf.matmul(query, key, transpose_b=True) / math.sqrt(d_k)",
                             "scores = tf.matmul(query, key, transpose_b=True)")],
    "softmax over the wrong axis": [("tf.nn.softmax(scores, axis=-1)", "tf.nn.softmax(scores, axis=-2)"),
                                    ("tf.nn.softmax(filled, axis=-1)", "tf.nn.softmax(filled, axis=-2)")],
    "inverted mask": [("filled = tf.where(mask, scores, very_negative)", "filled = tf.where(~mask, scores, very_negative)"),
                      ("return tf.where(mask, weights,", "return tf.where(~mask, weights,")],
    "heads split without the transpose": [
        ("x = tf.reshape(x, (batch, length, self.num_heads, self.d_head))\n        return tf.transpose(x, perm=(0, 2, 1, 3))",
         "return tf.reshape(x, (batch, self.num_heads, length, self.d_head))")],
    "heads merged in the wrong order": [
        ("x = tf.transpose(x, perm=(0, 2, 1, 3))\n        return tf.reshape(x, (batch, length, self.num_heads * self.d_head))",
         "return tf.reshape(x, (batch, length, self.num_heads * self.d_head))")],
    "sin and cos swapped": [("pairs = tf.stack([tf.sin(angles), tf.cos(angles)], axis=-1)",
                             "pairs = tf.stack([tf.cos(angles), tf.sin(angles)], axis=-1)")],
    "position not added": [("return self.token(input_ids) + self.position(positions)", "return self.token(input_ids)")],
    "pre-LN instead of post-LN": [
        ("attended, _ = self.attention(x, key_mask=key_mask, training=training)\n"
         "        h = self.attention_norm(x + self.dropout(attended, training=training))\n"
         "        transformed = self.ff_out(tf.nn.gelu(self.ff_in(h), approximate=False))\n"
         "        return self.ff_norm(h + self.dropout(transformed, training=training))",
         "attended, _ = self.attention(self.attention_norm(x), key_mask=key_mask, training=training)\n"
         "        h = x + self.dropout(attended, training=training)\n"
         "        transformed = self.ff_out(tf.nn.gelu(self.ff_in(self.ff_norm(h)), approximate=False))\n"
         "        return h + self.dropout(transformed, training=training)")],
    "special tokens masked": [("selected = (u < mask_prob) & ~is_special", "selected = u < mask_prob")],
    "80/10/10 proportions wrong": [("to_mask = selected & (r < replace_prob)", "to_mask = selected & (r < 0.6)"),
                                   ("(r >= replace_prob) & (r < replace_prob + random_prob)",
                                    "(r >= 0.6) & (r < 0.6 + random_prob)")],
    "weights not tied": [
        ('self.mlm_bias = self.add_weight(shape=(vocab_size,), initializer="zeros", name="mlm_bias")',
         'self.mlm_bias = self.add_weight(shape=(vocab_size,), initializer="zeros", name="mlm_bias")\n'
         '        self.mlm_decoder = keras.layers.Dense(vocab_size, use_bias=False)'),
        ("return tf.matmul(transformed, self.token_embedding.embeddings, transpose_b=True) + self.mlm_bias",
         "return self.mlm_decoder(transformed) + self.mlm_bias")],
}
assert set(TF_EDITS) == set(MUTATIONS)


@pytest.mark.parametrize("framework", ["torch", "tf"])
@pytest.mark.parametrize("name", list(MUTATIONS))
def test_mistake_loses_points(course, tmp_path, name, framework):
    task_id, filename, edits = MUTATIONS[name]
    if framework == "tf":
        pytest.importorskip("tensorflow")
        edits = TF_EDITS[name]
    submission = make_submission(course, tmp_path / "submission", framework=framework)
    for old, new in edits:
        edit(submission / f"course_{framework}" / filename, old, new)
    report, _ = grade(course, submission, frameworks=(framework,), tasks={task_id})
    summary = next(s for s in report.tasks if s.id == task_id)
    failed = [t for t in report.tests if not t.passed]
    assert summary.score < summary.max_score, f"{name!r} kept full marks on {task_id}"
    assert failed and all(t.message for t in failed), "every failure carries a diagnostic"
