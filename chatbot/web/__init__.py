"""The aiohttp application: the app factory, the pages (widget, console, demo) and their static files, web safety."""
