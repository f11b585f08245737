"""A BTCPay Server Greenfield sandbox: the subset of the API we use, with BTCPay's own shapes."""
