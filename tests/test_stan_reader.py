"""The Stan program reader behind ``harness new-model`` (``harness.backends._stan.read_program``)."""

import pytest

from harness.backends._stan import declaration, read_program

PROGRAM = """
// a comment with parameters { real fake; }
data {
  int<lower=0> N;
  int<lower=1> J;
  vector[N] x;
  array[N] int<lower=1, upper=J> group;
  array[N] int<lower=0> y;
}
parameters {
  real mu;
  real<lower=0> sigma;          /* positive */
  vector[J] z;
  real<lower=-1, upper=1> rho;
  simplex[3] w;
  ordered[2] cut;
  cholesky_factor_corr[2] L;
  array[J] vector[2] pair;
  real<offset=mu, multiplier=sigma> a;
  real<lower=J> above;
}
model {
  y ~ poisson_log(mu + z[group] + x);
}
generated quantities {
  array[N] int y_rep = poisson_log_rng(mu + z[group] + x);
}
"""
DATA = {"N": 5, "J": 3, "x": [0.0] * 5, "group": [1] * 5, "y": [0] * 5}


def test_parameters_shapes_and_supports():
    program = read_program(PROGRAM, DATA)
    assert program["params"] == [
        ("mu", (), "real"), ("sigma", (), "positive"), ("z", ("J",), "real"), ("rho", (), "interval(-1, 1)"),
        ("w", (3,), "simplex"), ("cut", (2,), "ordered"), ("L", (2, 2), "cholesky_corr"),
        ("pair", ("J", 2), "real"), ("a", (), "real"), ("above", (), "lower(J)"),
    ]


def test_observed_rows_and_replicates():
    program = read_program(PROGRAM, DATA)
    assert program["observed"] == ["y"]
    assert program["rows"] == "N"
    assert program["replicated"] == ["y"]


def test_old_array_syntax_and_expressions():
    assert declaration("real<lower=0> tau[J]", DATA) == ("real", "tau", ("J",), "positive")
    assert declaration("vector[N - 1] d", DATA)[2] == (4,)


def test_a_dimension_it_cannot_compute_names_the_line():
    code = "data { int K; }\ntransformed data { int Kc = K - 1; }\nparameters {\n  vector[Kc] b;\n}\nmodel { }\n"
    with pytest.raises(ValueError, match="line 4: dimension 'Kc'"):
        read_program(code, {"K": 3})
    # the Stan backend then takes the sizes from the built program
    assert read_program(code, {"K": 3}, {"b": (2,)})["params"] == [("b", (2,), "real")]


def test_a_bound_on_another_parameter_is_an_unknown_support():
    code = "parameters {\n real<lower=0> a;\n real<lower=0, upper=(1 - a)> b;\n}\nmodel { }\n"
    assert read_program(code, {})["params"] == [("a", (), "positive"), ("b", (), "?")]
