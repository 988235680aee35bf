// Package push turns Pub/Sub push deliveries into calls of a typed handler,
// once per message ID.
//
// A push subscription (or an Eventarc trigger on a topic) POSTs each message
// to the service. [Decode] understands the three shapes such a request can
// take (see [Form]); [NewHandler] decodes, claims the message ID in a
// de-duplication [Store], calls the application's [HandlerFunc] and answers
// with the status Pub/Sub understands: 2xx acknowledges, anything else makes
// Pub/Sub deliver the message again later.
//
//	status  when
//	204     the handler returned nil, or a [Permanent] error (poison: logged at ERROR),
//	        or the ID was already processed (the handler is not called again)
//	400     the body is not a valid delivery (the handler is not called)
//	409     another instance holds the ID's lease right now (redelivered later)
//	413     the body is over the service's limit
//	500     the handler returned an error or panicked (the ID is released)
//	503     the de-duplication store cannot be reached (nothing is processed)
//
// Pub/Sub push is at-least-once. The store makes processing once-only per
// message ID for as long as the store remembers the ID: per instance with
// [MemoryStore], across instances with handlers/push/redisstore.
//
// # Metrics and traces
//
// With [Options].MeterProvider the handler records, through the
// OpenTelemetry metric API:
//
//	pushgate.push.deliveries        counter    outcome, subscription
//	pushgate.push.handler.duration  histogram  outcome (seconds, from arrival to answer)
//	pushgate.push.message.age       histogram  subscription (seconds, publishTime to receipt)
//
// outcome is processed (204 after the handler returned nil), poison (204
// after a [Permanent] error), duplicate (204 without calling the handler:
// the ID was done already, or another delivery of it in this process
// succeeded meanwhile), failed (500), busy (409), store_unavailable (503)
// or malformed (400, or 413 for a body found over the limit while it is
// read). subscription is the full name the delivery carries, for the first
// [MaxSubscriptionLabels] names seen; then [SubscriptionOther], and
// [SubscriptionUnknown] when a delivery names none.
//
// With [Options].TracerProvider each delivery gets a consumer span. When
// the message carries its publisher's trace context in the attribute
// googclient_traceparent (as the Pub/Sub client libraries write it with
// OpenTelemetry tracing on), the span belongs to the publisher's trace and
// links to the push request's span; otherwise it is a child of the
// request's span. The handler's context and every log line of the delivery
// carry that span.
package push
