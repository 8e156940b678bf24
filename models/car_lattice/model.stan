// Poisson disease mapping with a proper CAR random effect (Joseph 2016; Besag, York and Mollie 1991):
// phi ~ MVN(0, [tau (D - alpha W)]^-1), its log density written exactly with the eigenvalues lambda of
// D^-1/2 W D^-1/2 (det(D - alpha W) = det(D) prod(1 - alpha lambda)); a dense quadratic form.
data {
  int<lower=1> N;
  matrix<lower=0, upper=1>[N, N] W;   // rook adjacency
  vector<lower=0>[N] d;               // neighbour counts, W 1
  vector[N] lambda;                   // eigenvalues of D^-1/2 W D^-1/2
  vector<lower=0>[N] E;               // expected counts
  vector[N] x;                        // covariate
  array[N] int<lower=0> y;
}
transformed data {
  vector[N] log_E = log(E);
  real log_det_D = sum(log(d));
}
parameters {
  real beta1;
  real<lower=0> tau;
  real<lower=0, upper=1> alpha;
  vector[N] phi;
}
model {
  beta1 ~ normal(0, 1);
  tau ~ gamma(2, 2);
  alpha ~ uniform(0, 1);
  target += 0.5 * (N * log(tau) + sum(log1m(alpha * lambda)) + log_det_D
                   - tau * (dot_product(d, square(phi)) - alpha * dot_product(phi, W * phi))
                   - N * log(2 * pi()));
  y ~ poisson_log(log_E + beta1 * x + phi);
}
