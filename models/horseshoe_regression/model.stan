// Linear regression with the regularised horseshoe prior (Piironen and Vehtari 2017), non-centred;
// after posteriordb's logistic_regression_rhs program, with half-Cauchy local and global scales,
// a Gaussian likelihood and sigma ~ exponential(1).
data {
  int<lower=0> N; // number of observations
  int<lower=1> D; // number of predictors
  matrix[N, D] X; // inputs
  vector[N] y; // outputs
  real<lower=0> scale_icept; // prior std for the intercept
  int<lower=0> p0; // prior guess of the number of relevant predictors (sets scale_global)
  real<lower=0> scale_global; // scale of the half-Cauchy prior of tau
  real<lower=0> slab_scale; // for the regularised horseshoe
  real<lower=0> slab_df;
}
parameters {
  real beta0;
  vector[D] z; // for the non-centred parameterisation
  real<lower=0> tau; // global shrinkage parameter
  vector<lower=0>[D] lambda; // local shrinkage parameters
  real<lower=0> caux;
  real<lower=0> sigma; // noise scale
}
transformed parameters {
  vector[D] beta; // regression coefficients
  {
    vector[D] lambda_tilde; // 'truncated' local shrinkage parameters
    real c = slab_scale * sqrt(caux); // slab scale
    lambda_tilde = sqrt(c ^ 2 * square(lambda) ./ (c ^ 2 + tau ^ 2 * square(lambda)));
    beta = z .* lambda_tilde * tau;
  }
}
model {
  z ~ std_normal();
  lambda ~ cauchy(0, 1);
  tau ~ cauchy(0, scale_global);
  caux ~ inv_gamma(0.5 * slab_df, 0.5 * slab_df);
  beta0 ~ normal(0, scale_icept);
  sigma ~ exponential(1);
  y ~ normal_id_glm(X, beta0, beta, sigma);
}
