// A Gaussian x ~ N(0, Sigma) given the Cholesky factor L of Sigma; no data observed.
data {
  int<lower=1> D;
  cholesky_factor_cov[D] L;
}
parameters {
  vector[D] x;
}
model {
  x ~ multi_normal_cholesky(rep_vector(0, D), L);
}
