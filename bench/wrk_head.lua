-- wrk sends HEAD requests (measurement 6: resolve metadata, as the clients ask it).
wrk.method = "HEAD"
