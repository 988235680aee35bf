// Package dispatch delivers messages from a Pub/Sub subscription to an HTTP
// endpoint the way a Pub/Sub push subscription does, so that a push endpoint
// can be tried with real authentication where nothing pushes: the Pub/Sub
// emulator and pstest only serve pull.
//
// A [Dispatcher] pulls with a [pubsub.Subscriber] (from an in-process pstest
// server, the emulator at PUBSUB_EMULATOR_HOST, or real Pub/Sub) and POSTs
// each message to [Config.Endpoint]:
//
//   - wrapped (the default): a JSON envelope
//     {"message":{"data":…,"attributes":…,"messageId":…,"message_id":…,
//     "publishTime":…,"publish_time":…,"orderingKey":…},"subscription":…,
//     "deliveryAttempt":N} with Content-Type application/json;
//   - unwrapped ([Config.Unwrapped]): the body is the message data; with
//     [Config.WriteMetadata] the metadata travels in x-goog-pubsub-* headers
//     and each attribute as a header of its own, as Pub/Sub's "write metadata"
//     option does.
//
// Each request carries "Authorization: Bearer <token>" from [Config.Tokens]
// for [Config.Audience] and Pub/Sub's User-Agent. A response of 102, 200, 201,
// 202 or 204 acknowledges the message; any other status, a network error, or
// no answer within [Config.AckDeadline] does not: the message is retried after
// an exponential backoff ([Backoff]) with its delivery attempt counted up, and
// after [Config.MaxAttempts] failed attempts it is dead-lettered.
//
// The dispatcher is at-least-once, like push: an endpoint may see a message
// more than once (for example when its answer is lost), never zero times while
// the dispatcher runs.
package dispatch
