// Normal mean with known unit noise.
data {
  int<lower=0> K;
  vector[K] x;
}
parameters {
  real mu;
}
model {
  mu ~ normal(0, 10);
  x ~ normal(mu, 1);
}
