"""Self, peer and manager (360) reviews: teams, cycles, ratings and their anonymous aggregate."""
