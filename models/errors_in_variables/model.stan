// Errors in variables; the likelihood is a custom target term.
data {
  int<lower=1> M;
  int<lower=0> N;
  matrix[M, N] x;
  vector<lower=0>[M] w;
  vector[N] y;
}
parameters {
  real<lower=0> x_noise_lvl;
  real<lower=0> w_noise_lvl;
  vector[M] w_noise;
}
model {
  vector[M] w_ = w .* (1 + w_noise * w_noise_lvl);
  x_noise_lvl ~ lognormal(-1, 0.5);
  w_noise_lvl ~ lognormal(-1.5, 0.5);
  w_noise ~ std_normal();
  target += normal_lpdf(y | x' * w_, x_noise_lvl * abs(sum(w_)));
}
