"""CPRAS Partner API (PrintPLANR): the OAuth clients PrintPLANR calls CPRAS with, and (to come)
suppliers, frameworks, print orders and session hand-offs."""
