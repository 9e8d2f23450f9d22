"""ssas-deploy: size, render and deploy the Smart Student Analytics System."""

__version__ = "0.1.0"
