"""The TensorFlow/Keras track of the course *Attention mechanisms and Transformers*.

Modules, in the order of the lessons:

* ``attention``  -- masked softmax, scaled dot-product and additive attention;
* ``positional`` -- sinusoidal encoding, learned position embedding;
* ``multihead``  -- multi-head (self- and cross-) attention;
* ``encoder``    -- the post-LN Transformer encoder block;
* ``bert``       -- a miniature BERT and the MLM masking procedure;
* ``training``   -- MLM pretraining and fine-tuning on the toy language
  (``toylang``); run ``python -m course_tf.training``.

Keras: every module is a ``keras.layers.Layer`` (Keras 3 on the TensorFlow
backend); its computation is in ``call``.  Keras creates a layer's weights
the first time the layer is called.
"""
