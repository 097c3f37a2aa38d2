"""Read side: frozen views of the programme's state and the as-of replay that builds them."""
