// Placeholder so the tree configures; the redaction engine replaces this file.
