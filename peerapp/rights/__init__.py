"""Data rights (UK GDPR): subject access, retention and erasure, and the History pages."""
