"""The log group governor: retention and subscription for every log group of an account and region."""
