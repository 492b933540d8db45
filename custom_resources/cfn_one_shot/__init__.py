"""The crhelper base shared by this project's custom resources.

One answer per request, bounded in time, delivered only to an https presigned URL, with neither
the URL nor the event in the logs. Each function's zip carries this package next to its app.py.
"""
