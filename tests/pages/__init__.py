"""AppTest drives each page script through app.py's navigation."""
