"""The price oracle: fiat prices to millisatoshis, cached in Redis, quotes locked per invoice."""
