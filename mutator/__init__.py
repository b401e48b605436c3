"""What to mutate: git attribution, diff narrowing, libcst operators, mutant generation."""
