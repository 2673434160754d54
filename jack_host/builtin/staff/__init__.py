"""The staff side of Jack: accounts, sign-in tokens, the JSON API and the live event stream."""
