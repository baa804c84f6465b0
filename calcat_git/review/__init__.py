"""Pull-request review: the rules of a change, its summary, CODEOWNERS."""
