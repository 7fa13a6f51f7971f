"""Order-Accept domain: the product catalogue, customers and their orders."""
