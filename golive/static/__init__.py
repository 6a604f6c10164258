"""Static analysis of the target's webhook handler with Semgrep and golive's own rules."""
