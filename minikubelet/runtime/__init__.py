"""Container runtimes behind one protocol: Docker for real (`docker.py`), in memory for tests (`fake.py`)."""
