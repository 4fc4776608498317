// Type declarations of @hqrooms/conversations: what is implemented (see
// docs/conversations.md), under the names of @twilio/conversations' own
// declarations, so that a TypeScript app written against those compiles
// against this package.

export type JSONValue = null | string | number | boolean | JSONObject | JSONArray;
export type JSONObject = { [x: string]: JSONValue };
export type JSONArray = JSONValue[];

export type CancellablePromise<T> = Promise<T> & { cancel(): void };

type Listener = (...args: any[]) => void;

declare class ReplayEventEmitter<Events extends Record<string, Listener>> {
  on<E extends keyof Events>(event: E, listener: Events[E]): this;
  addListener<E extends keyof Events>(event: E, listener: Events[E]): this;
  once<E extends keyof Events>(event: E, listener: Events[E]): this;
  off<E extends keyof Events>(event: E, listener: Events[E]): this;
  removeListener<E extends keyof Events>(event: E, listener: Events[E]): this;
  removeAllListeners(event?: keyof Events): this;
  emit<E extends keyof Events>(event: E, ...args: Parameters<Events[E]>): boolean;
  listenerCount(event: keyof Events): number;
}

export declare const version: string;

/** An error the SDK raises: a Twilio code where one means the same. */
export declare class ConversationsError extends Error {
  readonly code: number;
  readonly status: number;
  /** The server's error name (invalid_token, room_not_found, ...). */
  readonly reason: string | null;
}

export type State = 'failed' | 'initialized';
export type ConnectionState =
  | 'unknown' | 'disconnecting' | 'disconnected' | 'retrying'
  | 'connecting' | 'connected' | 'denied' | 'error';
export type ConnectionError = { terminal: boolean; message: string };
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent';

export interface ClientOptions {
  logLevel?: LogLevel;
  /** hqrooms: the hq-server (http(s) origin or ws(s) URL); default the page's origin. */
  wsServer?: string;
  [option: string]: unknown;
}

export type ClientEvents = {
  conversationJoined: (conversation: Conversation) => void;
  conversationLeft: (conversation: Conversation) => void;
  messageAdded: (message: Message) => void;
  stateChanged: (state: State) => void;
  initialized: () => void;
  initFailed: ({ error }: { error?: ConnectionError }) => void;
  connectionStateChanged: (state: ConnectionState) => void;
  connectionError: (data: ConnectionError) => void;
  tokenAboutToExpire: () => void;
  tokenExpired: () => void;
};

export interface Paginator<T> {
  hasNextPage: boolean;
  hasPrevPage: boolean;
  items: T[];
  nextPage(): Promise<Paginator<T>>;
  prevPage(): Promise<Paginator<T>>;
}

export interface User {
  readonly identity: string | null;
  readonly friendlyName: string | null;
}

export declare class Client extends ReplayEventEmitter<ClientEvents> {
  constructor(fpaToken: string, options?: ClientOptions | null);
  /** @twilio/conversations 1.x: resolves with the initialized client. */
  static create(fpaToken: string, options?: ClientOptions | null): Promise<Client>;
  readonly version: string;
  connectionState: ConnectionState;
  readonly user: User;
  readonly reachabilityEnabled: boolean;
  shutdown(): Promise<void>;
  updateToken(token: string): Promise<Client>;
  getConversationBySid(conversationSid: string): Promise<Conversation>;
  peekConversationBySid(conversationSid: string): Promise<Conversation>;
  getConversationByUniqueName(uniqueName: string): Promise<Conversation>;
  getSubscribedConversations(): Promise<Paginator<Conversation>>;
  getTemporaryContentUrlsForMedia(contentSet: Media[]): Promise<Map<string, string>>;
}

export type ConversationStatus = 'notParticipating' | 'joined';
export type NotificationLevel = 'default' | 'muted';

export interface SendMediaOptions {
  contentType: null | string;
  filename?: string;
  media: null | string | Blob;
}

export interface LastMessage {
  index?: number;
}

export type ConversationEvents = {
  messageAdded: (message: Message) => void;
};

export declare class UnsentMessage {
  send(): CancellablePromise<number | null>;
}

export declare class MessageBuilder {
  setBody(text: string): MessageBuilder;
  setAttributes(attributes: JSONValue): MessageBuilder;
  addMedia(payload: FormData | SendMediaOptions): MessageBuilder;
  build(): UnsentMessage;
  buildAndSend(): CancellablePromise<number | null>;
}

export declare class Conversation extends ReplayEventEmitter<ConversationEvents> {
  /** The room's sid. */
  readonly sid: string;
  /** The room's unique name. */
  readonly uniqueName: string | null;
  readonly friendlyName: string | null;
  readonly attributes: JSONValue;
  readonly createdBy: string | null;
  readonly dateCreated: Date | null;
  readonly dateUpdated: Date | null;
  readonly status: ConversationStatus;
  readonly notificationLevel: NotificationLevel;
  readonly lastReadMessageIndex: number | null;
  readonly lastMessage: LastMessage | undefined;
  /** hqrooms: the server's attachment limits: largest file in bytes (0: none taken) and the content types taken (patterns such as image/* allowed). */
  readonly hqMediaLimits: { maxSize: number; types: string[] };
  getMessages(pageSize?: number, anchor?: number, direction?: 'backwards' | 'forward'): Promise<Paginator<Message>>;
  getMessagesCount(): Promise<number>;
  sendMessage(message: null | string | FormData | SendMediaOptions, messageAttributes?: JSONValue): Promise<number>;
  prepareMessage(): MessageBuilder;
  leave(): Promise<Conversation>;
}

export type MessageType = 'text' | 'media';
export type MediaCategory = 'media' | 'body' | 'history';

export declare class Media {
  readonly sid: string;
  readonly filename: string | null;
  readonly contentType: string;
  readonly size: number;
  readonly category: MediaCategory;
  getContentTemporaryUrl(): CancellablePromise<string | null>;
}

export type MessageEvents = Record<string, Listener>;

export declare class Message extends ReplayEventEmitter<MessageEvents> {
  readonly conversation: Conversation;
  readonly sid: string;
  readonly index: number;
  readonly author: string | null;
  readonly body: string | null;
  readonly subject: string | null;
  readonly contentSid: string | null;
  readonly dateCreated: Date | null;
  readonly dateUpdated: Date | null;
  readonly lastUpdatedBy: string | null;
  readonly attributes: JSONValue;
  readonly type: MessageType;
  readonly participantSid: string | null;
  readonly attachedMedia: Array<Media> | null;
  readonly media: Media | null;
  readonly aggregatedDeliveryReceipt: null;
  /** hqrooms: the sender's display name. */
  readonly hqAuthorName: string;
  getMediaByCategories(categories: MediaCategory[]): Media[] | null;
  getMediaByCategory(categories: Array<MediaCategory>): Array<Media> | null;
  getTemporaryContentUrlsForAttachedMedia(): CancellablePromise<Map<string, string>>;
}

declare const _default: {
  Client: typeof Client;
  Conversation: typeof Conversation;
  Message: typeof Message;
  Media: typeof Media;
  ConversationsError: typeof ConversationsError;
  version: string;
};
export default _default;
