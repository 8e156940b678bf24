// Eight Schools, non-centred, flat prior on tau.
data {
  int<lower=0> J;
  vector[J] y;
  vector<lower=0>[J] sigma;
}
parameters {
  real mu;
  real<lower=0, upper=100> tau;
  vector[J] theta_trans;
}
model {
  mu ~ normal(8.75, 20);
  tau ~ uniform(0, 100);
  theta_trans ~ std_normal();
  y ~ normal(mu + tau * theta_trans, sigma);
}
