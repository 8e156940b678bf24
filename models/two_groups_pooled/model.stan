// Two groups, complete pooling (group is read but unused).
data {
  int<lower=0> N;
  vector[N] x;
  array[N] int<lower=1, upper=2> group;
}
parameters {
  real mu;
}
model {
  mu ~ normal(0, 10);
  x ~ normal(mu, 1);
}
