"""The O-GAN objective (paper eq. 7, 8, 11, 12) as the authors compute it, one pure function each.

E is called three times per iteration: on real x, on the fake G(z), and on the fake with its
gradient stopped, sg(G(z)); each call has its own BatchNorm batch statistics.
"""

from keras import ops


def _identity(t):
    return t


def _negative(t):
    return -t


def _softplus_of_negative(t):
    return ops.softplus(-t)


def _hinge_below_one(t):
    return ops.relu(1 - t)


def _hinge_above_minus_one(t):
    return ops.relu(1 + t)


# The f, g, h of eq. 1 and 6: E (or T) minimises f(D(x)) + g(D(G(z))), G minimises h(D(G(z))).
# (Named functions, not lambdas: TensorFlow's autograph cannot tell same-line lambdas apart.)
ADVERSARIAL = {
    "linear": (_identity, _negative, _identity),  # eq. 11, the paper's choice
    "vanilla": (_softplus_of_negative, ops.softplus, _softplus_of_negative),  # eq. 2
    "hinge": (_hinge_below_one, _hinge_above_minus_one, _negative),
}


def score(codes):
    # eq. 8: the discriminator is the encoder's average, D(x) = avg(E(x)), one per sample.
    return ops.mean(codes, axis=-1)


def pearson_correlation(z, z_hat):
    # eq. 7: rho(z, z_hat) per sample: centre each vector, l2-normalise, dot product.
    def normalise(v):
        v = v - ops.mean(v, axis=-1, keepdims=True)
        return v / ops.sqrt(ops.sum(ops.square(v), axis=-1, keepdims=True) + 1e-12)

    return ops.sum(normalise(z) * normalise(z_hat), axis=-1)


def encoder_score_gap(score_real, score_fake_stopped):
    # eq. 11, E's adversarial term: avg(E(x)) - avg(E(sg(G(z)))), per sample ("t1").
    return score_real - score_fake_stopped


def discriminator_term(score_real, score_fake_stopped, adversarial="linear"):
    # eq. 6, E's adversarial term f(D(x)) + g(D(sg(G(z)))); for "linear" it is t1 (eq. 11).
    f, g, _ = ADVERSARIAL[adversarial]
    return f(score_real) + g(score_fake_stopped)


def generator_score(score_fake, score_fake_stopped, adversarial="linear"):
    # eq. 6, G's adversarial term h(D(G(z))), as a difference whose value is 0 ("t2"):
    # its gradient reaches G through E but cancels on E's own weights.
    h = ADVERSARIAL[adversarial][2]
    return h(score_fake) - h(score_fake_stopped)


def quadratic_potential(gap, x_real, x_fake_stopped, weight=0.25):
    # eq. 12 with lambda_1 = weight / n_x: gap^2 / ||x - sg(G(z))||^2 summed over pixels,
    # i.e. weight * gap^2 / (mean squared pixel difference), per sample. Trains E only.
    axes = tuple(range(1, len(x_real.shape)))
    return weight * ops.square(gap) / ops.mean(ops.square(x_real - x_fake_stopped), axis=axes)


def ogan_loss(score_real, score_fake, score_fake_stopped, z, codes_fake, x_real, x_fake_stopped,
              correlation_weight=0.5, qp_weight=0.25, adversarial="linear"):
    # eq. 11 for E and G in one loss: mean(t1 + t2 - lambda_2 rho) + mean(qp); other f, g, h by eq. 6.
    gap = encoder_score_gap(score_real, score_fake_stopped)
    rho = pearson_correlation(z, codes_fake)
    qp = quadratic_potential(gap, x_real, x_fake_stopped, qp_weight)
    return ops.mean(discriminator_term(score_real, score_fake_stopped, adversarial)
                    + generator_score(score_fake, score_fake_stopped, adversarial)
                    - correlation_weight * rho) + ops.mean(qp)
