"""The service layer: the operations users perform, as plain typed functions. The CLI
(and later the REST server) are thin shells over these."""
