// Two groups, no pooling.
data {
  int<lower=0> N;
  vector[N] x;
  array[N] int<lower=1, upper=2> group;
}
parameters {
  vector[2] mu;
}
model {
  mu ~ normal(0, 10);
  x ~ normal(mu[group], 1);
}
