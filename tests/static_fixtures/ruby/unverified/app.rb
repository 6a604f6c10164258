# A Sinatra webhook that never verifies a signature.
require "sinatra"
require "json"

post "/webhook" do
  event = JSON.parse(request.body.read)
  # ruleid: golive.webhook.never-verifies, golive.webhook.event-dispatch.ruby
  if event["type"] == "charge.succeeded"
    fulfil(event["data"]["object"])
  end
  status 200
end
