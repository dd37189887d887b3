"""kitlib.losses against hand-computed values (small numpy arrays and the formulas written out)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from kitlib import losses

REAL = np.array([[2.0], [-0.5], [0.3]], "float32")
FAKE = np.array([[-1.5], [0.7], [0.0]], "float32")


def softplus(x):
    return np.log1p(np.exp(x))


# (real term, fake term, generator loss) per name, written from the formulas with numpy.
EXPECTED = {
    "bce": (np.mean(-np.log(1 / (1 + np.exp(-REAL)))), np.mean(-np.log(1 - 1 / (1 + np.exp(-FAKE)))),
            np.mean(-np.log(1 / (1 + np.exp(-FAKE))))),
    "lsgan": (np.mean((REAL - 1) ** 2), np.mean(FAKE**2), np.mean((FAKE - 1) ** 2)),
    "hinge": (np.mean(np.maximum(0, 1 - REAL)), np.mean(np.maximum(0, 1 + FAKE)), -np.mean(FAKE)),
    "wgan": (-np.mean(REAL), np.mean(FAKE), -np.mean(FAKE)),
}


def test_adversarial_names():
    assert losses.ADVERSARIAL_LOSSES == ("bce", "lsgan", "hinge", "wgan")
    assert set(EXPECTED) == set(losses.ADVERSARIAL_LOSSES)


@pytest.mark.parametrize("name", losses.ADVERSARIAL_LOSSES)
def test_adversarial_hand_computed(name):
    real_term, fake_term, g_loss = EXPECTED[name]
    r, f = losses.discriminator_loss_terms(name, REAL, FAKE)
    np.testing.assert_allclose(float(r), real_term, rtol=1e-5)
    np.testing.assert_allclose(float(f), fake_term, rtol=1e-5)
    d = losses.discriminator_loss(name, REAL, FAKE)
    np.testing.assert_allclose(float(d), real_term + fake_term, rtol=1e-5)  # summed, not halved
    np.testing.assert_allclose(float(losses.generator_loss(name, FAKE)), g_loss, rtol=1e-5)
    assert d.dtype == "float32"


def test_hinge_and_lsgan_explicit_numbers():
    # hinge: relu(1-2)=0, relu(1+0.5)=1.5, relu(1-0.3)=0.7 -> 2.2/3 ; relu(1-1.5)=0, relu(1.7)=1.7, relu(1)=1 -> 2.7/3
    np.testing.assert_allclose(float(losses.discriminator_loss("hinge", REAL, FAKE)), 2.2 / 3 + 2.7 / 3, rtol=1e-6)
    # lsgan G: (-2.5)^2 + 0.3^2 + 1 = 6.25 + 0.09 + 1 = 7.34 -> /3
    np.testing.assert_allclose(float(losses.generator_loss("lsgan", FAKE)), 7.34 / 3, rtol=1e-6)
    # wgan critic: mean(f) - mean(r) = (-0.8/3) - (1.8/3) = -2.6/3
    np.testing.assert_allclose(float(losses.discriminator_loss("wgan", REAL, FAKE)), -2.6 / 3, rtol=1e-6)


def test_bce_matches_keras_and_is_stable():
    bce = keras.losses.BinaryCrossentropy(from_logits=True)
    expected = float(bce(np.ones_like(REAL), REAL)) + float(bce(np.zeros_like(FAKE), FAKE))
    np.testing.assert_allclose(float(losses.discriminator_loss("bce", REAL, FAKE)), expected, rtol=1e-5)
    # Huge logits: from-logits BCE stays finite (softplus), a sigmoid+log would give inf.
    big = np.array([[-200.0], [200.0]], "float32")
    value = float(losses.discriminator_loss("bce", big, -big))
    np.testing.assert_allclose(value, 100.0 + 100.0, rtol=1e-5)  # mean(softplus(200), softplus(-200)) = 100 each
    assert np.isfinite(float(losses.generator_loss("bce", -big)))


def test_bfloat16_logits_computed_in_float32():
    value = losses.generator_loss("lsgan", tf.constant(FAKE, tf.bfloat16))
    assert value.dtype == "float32"
    np.testing.assert_allclose(float(value), 7.34 / 3, rtol=1e-2)


def test_patch_logits_are_averaged_over_all_elements():
    patches = np.arange(8, dtype="float32").reshape(2, 2, 2, 1) - 4.0  # -4..3
    np.testing.assert_allclose(float(losses.generator_loss("wgan", patches)), -np.mean(patches), rtol=1e-6)


@pytest.mark.parametrize("name", losses.ADVERSARIAL_LOSSES)
def test_list_of_logits_is_averaged_over_scales(name):
    r2, f2 = np.array([[1.0], [0.0]], "float32"), np.array([[0.5], [-2.0]], "float32")
    r_a, f_a = losses.discriminator_loss_terms(name, REAL, FAKE)
    r_b, f_b = losses.discriminator_loss_terms(name, r2, f2)
    r, f = losses.discriminator_loss_terms(name, [REAL, r2], [FAKE, f2])
    np.testing.assert_allclose(float(r), (float(r_a) + float(r_b)) / 2, rtol=1e-6)
    np.testing.assert_allclose(float(f), (float(f_a) + float(f_b)) / 2, rtol=1e-6)
    g = losses.generator_loss(name, (FAKE, f2))
    expected_g = (float(losses.generator_loss(name, FAKE)) + float(losses.generator_loss(name, f2))) / 2
    np.testing.assert_allclose(float(g), expected_g, rtol=1e-6)


def test_bad_name_lists_valid_names():
    with pytest.raises(ValueError, match="bce.*lsgan.*hinge.*wgan.*Received: name='wgan-gp'"):
        losses.discriminator_loss("wgan-gp", REAL, FAKE)
    with pytest.raises(ValueError, match="Received: name='mse'"):
        losses.generator_loss("mse", FAKE)
    with pytest.raises(ValueError, match="empty list"):
        losses.generator_loss("bce", [])


# ---------------------------------------------------------------------------------------------------------------
def _linear_critic(w):
    """D(x) = sum(w * x): its input gradient is w for every sample, so the GP is known in closed form."""
    inputs = keras.Input(w.shape)
    outputs = keras.layers.Lambda(lambda x: tf.reduce_sum(x * w, axis=[1, 2, 3])[:, None])(inputs)
    return keras.Model(inputs, outputs)


def test_gradient_penalty_of_linear_critic():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(4, 4, 2)).astype("float32")
    critic = _linear_critic(w)
    real, fake = rng.normal(size=(3, 4, 4, 2)), rng.normal(size=(3, 4, 4, 2))
    norm = np.sqrt(np.sum(w**2))
    expected = 10.0 * (norm - 1.0) ** 2  # same gradient for every interpolate
    for seed in (None, 3, tf.constant([5, 7])):
        np.testing.assert_allclose(float(losses.gradient_penalty(critic, real, fake, seed=seed)), expected, rtol=1e-4)
    np.testing.assert_allclose(float(losses.gradient_penalty(critic, real, fake, weight=2.0, seed=1)),
                               expected / 5, rtol=1e-4)
    # A unit-norm linear critic satisfies the constraint exactly.
    unit = _linear_critic(w / norm)
    assert float(losses.gradient_penalty(unit, real, fake, seed=0)) < 1e-6


def test_gradient_penalty_interpolates_per_sample_and_is_seeded():
    seen = []

    def critic(x, training=False):
        seen.append(x)
        return tf.reduce_sum(x * x, axis=[1, 2, 3])[:, None]  # grad = 2 x: depends on alpha

    real, fake = np.ones((4, 2, 2, 1), "float32"), np.zeros((4, 2, 2, 1), "float32")
    a = float(losses.gradient_penalty(critic, real, fake, seed=11))
    b = float(losses.gradient_penalty(critic, real, fake, seed=11))
    assert a == b
    alphas = seen[0].numpy()[:, 0, 0, 0]
    assert np.all((alphas >= 0) & (alphas < 1)) and len(np.unique(alphas)) == 4  # one alpha per sample
    np.testing.assert_allclose(seen[0].numpy(), alphas[:, None, None, None] * np.ones((4, 2, 2, 1)), rtol=1e-6)
    # ||2 * alpha * ones(2,2,1)|| = 4 alpha
    np.testing.assert_allclose(a, 10.0 * np.mean((4 * alphas - 1) ** 2), rtol=1e-4)


def test_gradient_penalty_with_conditioning():
    w = np.ones((2, 2, 3), "float32")  # 1 image channel + 2 conditioning channels
    critic = _linear_critic(w * 0.25)
    real, fake = np.ones((2, 2, 2, 1), "float32"), np.zeros((2, 2, 2, 1), "float32")
    cond = np.full((2, 2, 2, 2), 5.0, "float32")
    # Gradient only w.r.t. the image channel: ||0.25 * ones(2,2,1)|| = 0.5 -> 10 * 0.25
    np.testing.assert_allclose(float(losses.gradient_penalty(critic, real, fake, conditioning=cond, seed=0)),
                               2.5, rtol=1e-5)


def test_gradient_penalty_in_tf_function():
    critic = _linear_critic(np.full((2, 2, 1), 0.5, "float32"))  # ||grad|| = 1
    fn = tf.function(lambda r, f, s: losses.gradient_penalty(critic, r, f, seed=s))
    value = fn(tf.ones((2, 2, 2, 1)), tf.zeros((2, 2, 2, 1)), tf.constant([1, 2]))
    assert float(value) < 1e-6


# ---------------------------------------------------------------------------------------------------------------
def test_l1_cycle_identity():
    a = np.array([[1.0, -2.0], [0.5, 0.0]], "float32")
    b = np.zeros_like(a)
    assert float(losses.l1_loss(a, b)) == pytest.approx(3.5 / 4)
    assert float(losses.cycle_loss(a, b)) == pytest.approx(3.5 / 4)
    assert float(losses.identity_loss(a, a)) == 0.0


def test_gram_matrix_of_known_tensor():
    # 1 x 2 x 1 x 2: pixels (1, 2) and (3, 4). G = (x^T x) / (H*W) = [[1+9, 2+12], [2+12, 4+16]] / 2
    x = np.array([[[[1.0, 2.0]], [[3.0, 4.0]]]], "float32")
    np.testing.assert_allclose(losses.gram_matrix(x).numpy(), [[[5.0, 7.0], [7.0, 10.0]]], rtol=1e-6)
    rng = np.random.default_rng(1)
    y = rng.normal(size=(2, 3, 5, 4)).astype("float32")
    flat = y.reshape(2, 15, 4)
    np.testing.assert_allclose(losses.gram_matrix(y).numpy(), np.einsum("bnc,bnd->bcd", flat, flat) / 15, rtol=1e-5)


def test_style_and_content_losses():
    rng = np.random.default_rng(2)
    f1, f2 = rng.normal(size=(1, 4, 4, 3)), rng.normal(size=(1, 2, 2, 5))
    t1, t2 = np.zeros((1, 3, 3)), np.ones((1, 5, 5))
    g1, g2 = losses.gram_matrix(f1).numpy(), losses.gram_matrix(f2).numpy()
    expected = (np.mean((g1 - t1) ** 2) + np.mean((g2 - t2) ** 2)) / 2
    np.testing.assert_allclose(float(losses.style_loss([f1, f2], [t1, t2])), expected, rtol=1e-5)
    expected_content = (np.mean(f1**2) + np.mean((f2 - 1) ** 2)) / 2
    np.testing.assert_allclose(float(losses.content_loss([f1, f2], [0 * f1, 1 + 0 * f2])), expected_content,
                               rtol=1e-5)
    with pytest.raises(ValueError, match="lengths 2 and 1"):
        losses.style_loss([f1, f2], [t1])


def test_total_variation_equals_tf_image():
    rng = np.random.default_rng(3)
    images = rng.uniform(size=(3, 5, 6, 3)).astype("float32")
    expected = float(tf.reduce_mean(tf.image.total_variation(tf.constant(images))))
    np.testing.assert_allclose(float(losses.total_variation_loss(images)), expected, rtol=1e-5)
    # By hand: a 2x2 image [[0, 1], [1, 1]]: |1-0| + |1-1| (vertical) + |1-0| + |1-1| (horizontal) = 2
    assert float(losses.total_variation_loss(np.array([[[[0.0], [1.0]], [[1.0], [1.0]]]]))) == pytest.approx(2.0)


def test_feature_matching():
    rng = np.random.default_rng(4)
    scale1 = [rng.normal(size=(2, 8, 8, 4)), rng.normal(size=(2, 4, 4, 8))]
    scale2 = [rng.normal(size=(2, 4, 4, 4))]
    assert float(losses.feature_matching_loss([scale1, scale2], [scale1, scale2])) == 0.0
    fake1 = [f + 1.0 for f in scale1]  # L1 = 1 per layer
    fake2 = [f - 3.0 for f in scale2]  # L1 = 3
    value = losses.feature_matching_loss([scale1, scale2], [fake1, fake2])
    np.testing.assert_allclose(float(value), (1.0 + 3.0) / 2, rtol=1e-5)  # mean over layers, mean over scales
    summed = losses.feature_matching_loss([scale1, scale2], [fake1, fake2], layer_reduction="sum")
    np.testing.assert_allclose(float(summed), (2.0 + 3.0) / 2, rtol=1e-5)  # SPADE: sum over layers / num_D
    # One scale given as a flat list.
    np.testing.assert_allclose(float(losses.feature_matching_loss(scale1, fake1)), 1.0, rtol=1e-5)
    with pytest.raises(ValueError, match="layer_reduction"):
        losses.feature_matching_loss(scale1, fake1, layer_reduction="max")


def test_feature_matching_stops_gradient_of_real_features():
    real = tf.Variable(np.ones((1, 2, 2, 1), "float32"))
    fake = tf.Variable(np.zeros((1, 2, 2, 1), "float32"))
    with tf.GradientTape() as tape:
        loss = losses.feature_matching_loss([[real]], [[fake]])
    g_real, g_fake = tape.gradient(loss, [real, fake])
    assert g_real is None
    np.testing.assert_allclose(g_fake.numpy(), -np.full((1, 2, 2, 1), 0.25), rtol=1e-6)


def test_kl_divergence():
    assert float(losses.kl_divergence(np.zeros((4, 8)), np.zeros((4, 8)))) == 0.0
    mu = np.array([[1.0, 0.0], [0.0, 2.0]], "float32")
    logvar = np.array([[0.0, np.log(2.0)], [0.0, 0.0]], "float32")
    # sample 1: -0.5*((1+0-1-1) + (1+ln2-0-2)) = -0.5*(-1 + ln2 - 1) ; sample 2: -0.5*((1-1) + (1-4-1)) = 2
    s1 = -0.5 * (-2.0 + np.log(2.0))
    np.testing.assert_allclose(float(losses.kl_divergence(mu, logvar)), (s1 + 2.0) / 2, rtol=1e-6)


def test_mean_std_loss():
    rng = np.random.default_rng(5)
    a = [rng.normal(size=(2, 4, 4, 3)).astype("float32"), rng.normal(size=(2, 2, 2, 6)).astype("float32")]
    assert float(losses.mean_std_loss(a, a)) == 0.0
    b = [2.0 * a[0] + 1.0, a[1]]
    mean_a, std_a = a[0].mean(axis=(1, 2)), np.sqrt(a[0].var(axis=(1, 2)) + 1e-5)
    mean_b, std_b = b[0].mean(axis=(1, 2)), np.sqrt(b[0].var(axis=(1, 2)) + 1e-5)
    expected = np.mean((mean_a - mean_b) ** 2) + np.mean((std_a - std_b) ** 2)  # second layer contributes 0
    np.testing.assert_allclose(float(losses.mean_std_loss(a, b)), expected, rtol=1e-4)
    # Summed (not averaged) over layers: the same shift on both layers doubles the loss.
    shifted = [x + 1.0 for x in a]
    np.testing.assert_allclose(float(losses.mean_std_loss(a, shifted)), 2.0, rtol=1e-5)
