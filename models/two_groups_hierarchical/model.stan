// Two groups, partial pooling.
data {
  int<lower=0> N;
  vector[N] x;
  array[N] int<lower=1, upper=2> group;
}
parameters {
  real mu_glob;
  vector[2] mu;
}
model {
  mu_glob ~ normal(1, 0.1);
  mu ~ normal(mu_glob, 0.1);
  x ~ normal(mu[group], 1);
}
