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
package push
