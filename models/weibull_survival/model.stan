// Weibull survival regression with right censoring: log-scale linear predictor; observed events
// contribute the Weibull log density, censored subjects the log survival function.
data {
  int<lower=0> N;
  int<lower=1> K;
  matrix[N, K] X;
  vector<lower=0>[N] y;
  array[N] int<lower=0, upper=1> censored;
}
transformed data {
  int n_cens = sum(censored);
  array[N - n_cens] int event_idx;
  array[n_cens] int cens_idx;
  {
    int i = 1;
    int j = 1;
    for (n in 1:N) {
      if (censored[n] == 1) {
        cens_idx[j] = n;
        j += 1;
      } else {
        event_idx[i] = n;
        i += 1;
      }
    }
  }
}
parameters {
  real<lower=0> alpha;
  real intercept;
  vector[K] beta;
}
model {
  vector[N] sigma = exp(intercept + X * beta);
  alpha ~ lognormal(0, 0.5);
  intercept ~ normal(0, 2);
  beta ~ normal(0, 1);
  y[event_idx] ~ weibull(alpha, sigma[event_idx]);
  target += weibull_lccdf(y[cens_idx] | alpha, sigma[cens_idx]);
}
