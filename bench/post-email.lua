-- wrk script: POST /emails with a small email to a sandbox recipient.
-- Usage: KEY=re_… wrk -t2 -c64 -d10s -s bench/post-email.lua http://127.0.0.1:3210
wrk.method = "POST"
wrk.path = "/emails"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("KEY")
wrk.body = '{"from":"Acme <onboarding@resend.dev>","to":"delivered@resend.dev","subject":"Benchmark","html":"<p>Hello from the benchmark</p>"}'
