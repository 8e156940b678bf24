// Daily bike rentals over one year: a negative-binomial regression on temperature and weekends.
data {
  int<lower=0> N;                  // days
  vector[N] temp;                  // standardised daily mean temperature
  vector[N] weekend;               // 1 on Saturdays and Sundays
  array[N] int<lower=0> rentals;   // rentals that day
}
parameters {
  real alpha;
  real beta_temp;
  real beta_weekend;
  real<lower=0> phi;               // overdispersion
}
model {
  alpha ~ normal(5, 2);
  beta_temp ~ normal(0, 1);
  beta_weekend ~ normal(0, 1);
  phi ~ gamma(2, 0.1);
  rentals ~ neg_binomial_2_log(alpha + beta_temp * temp + beta_weekend * weekend, phi);
}
generated quantities {
  array[N] int rentals_rep = neg_binomial_2_log_rng(alpha + beta_temp * temp + beta_weekend * weekend, phi);
}
