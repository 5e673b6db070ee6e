-- wrk script for `make bench-serve`: POST [5,3] to /call/add/add on every request.
wrk.method = "POST"
wrk.path = "/call/add/add"
wrk.body = "[5,3]"
wrk.headers["Content-Type"] = "application/json"
