"""The live orders screen: positions with their protection, open orders, cancel, move, close, kill."""
