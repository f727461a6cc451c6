
export type Json = string | number | boolean | null | { [key: string]: Json | undefined } | Json[]

export type Database = {
  
  "graphql_public": {
          Tables: {
            [_ in never]: never
          }
          Views: {
            [_ in never]: never
          }
          Functions: {
            [_ in never]: never
          }
          Enums: {
            [_ in never]: never
          }
          CompositeTypes: {
            [_ in never]: never
          }
        },"public": {
          Tables: {
            "attachments": {
                  Row: {
                    "bucket_id": string,"chat_id": string,"created_at": string,"detected_mime_type": string | null,"duration_seconds": number | null,"height": number | null,"id": string,"message_id": string | null,"mime_type": string,"name": string,"next_scan_at": string | null,"object_path": string,"scan_attempts": number,"scan_error": string | null,"scan_requested_at": string | null,"scan_signature": string | null,"scan_status": Database["public"]['Enums']["attachment_scan_status"],"scanned_at": string | null,"size_bytes": number,"thumbnail_error": string | null,"thumbnail_path": string | null,"thumbnail_status": Database["public"]['Enums']["attachment_thumbnail_status"] | null,"updated_at": string,"uploader_id": string | null,"width": number | null
                  }
                  ComputedFields: never
                  Insert: {
                    "bucket_id"?: string,"chat_id": string,"created_at"?: string,"detected_mime_type"?: string | null,"duration_seconds"?: number | null,"height"?: number | null,"id": string,"message_id"?: string | null,"mime_type": string,"name": string,"next_scan_at"?: string | null,"object_path": string,"scan_attempts"?: number,"scan_error"?: string | null,"scan_requested_at"?: string | null,"scan_signature"?: string | null,"scan_status"?: Database["public"]['Enums']["attachment_scan_status"],"scanned_at"?: string | null,"size_bytes": number,"thumbnail_error"?: string | null,"thumbnail_path"?: string | null,"thumbnail_status"?: Database["public"]['Enums']["attachment_thumbnail_status"] | null,"updated_at"?: string,"uploader_id"?: string | null,"width"?: number | null
                  }
                  Update: {
                    "bucket_id"?: string,"chat_id"?: string,"created_at"?: string,"detected_mime_type"?: string | null,"duration_seconds"?: number | null,"height"?: number | null,"id"?: string,"message_id"?: string | null,"mime_type"?: string,"name"?: string,"next_scan_at"?: string | null,"object_path"?: string,"scan_attempts"?: number,"scan_error"?: string | null,"scan_requested_at"?: string | null,"scan_signature"?: string | null,"scan_status"?: Database["public"]['Enums']["attachment_scan_status"],"scanned_at"?: string | null,"size_bytes"?: number,"thumbnail_error"?: string | null,"thumbnail_path"?: string | null,"thumbnail_status"?: Database["public"]['Enums']["attachment_thumbnail_status"] | null,"updated_at"?: string,"uploader_id"?: string | null,"width"?: number | null
                  }
                  Relationships: [
                    {
      foreignKeyName: "attachments_chat_id_fkey"
      columns: ["chat_id"]
isOneToOne: false
      referencedRelation: "chats"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "attachments_message_id_fkey"
      columns: ["message_id"]
isOneToOne: false
      referencedRelation: "messages"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "attachments_uploader_id_fkey"
      columns: ["uploader_id"]
isOneToOne: false
      referencedRelation: "profiles"
      referencedColumns: ["id"]
    }
                  ]
                },"audit_log": {
                  Row: {
                    "action": string,"actor_id": string | null,"after": Json | null,"before": Json | null,"chat_id": string | null,"created_at": string,"details": NonNullable<Json>,"id": number,"target_id": string | null,"target_table": string | null
                  }
                  ComputedFields: never
                  Insert: {
                    "action": string,"actor_id"?: string | null,"after"?: Json | null,"before"?: Json | null,"chat_id"?: string | null,"created_at"?: string,"details"?: NonNullable<Json>,"id"?: never,"target_id"?: string | null,"target_table"?: string | null
                  }
                  Update: {
                    "action"?: string,"actor_id"?: string | null,"after"?: Json | null,"before"?: Json | null,"chat_id"?: string | null,"created_at"?: string,"details"?: NonNullable<Json>,"id"?: never,"target_id"?: string | null,"target_table"?: string | null
                  }
                  Relationships: [
                    
                  ]
                },"chat_bans": {
                  Row: {
                    "banned_by": string | null,"chat_id": string,"created_at": string,"reason": string | null,"user_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "banned_by"?: string | null,"chat_id": string,"created_at"?: string,"reason"?: string | null,"user_id": string
                  }
                  Update: {
                    "banned_by"?: string | null,"chat_id"?: string,"created_at"?: string,"reason"?: string | null,"user_id"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "chat_bans_banned_by_fkey"
      columns: ["banned_by"]
isOneToOne: false
      referencedRelation: "profiles"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "chat_bans_chat_id_fkey"
      columns: ["chat_id"]
isOneToOne: false
      referencedRelation: "chats"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "chat_bans_user_id_fkey"
      columns: ["user_id"]
isOneToOne: false
      referencedRelation: "profiles"
      referencedColumns: ["id"]
    }
                  ]
                },"chat_emoji": {
                  Row: {
                    "chat_id": string,"created_at": string,"created_by": string | null,"image_path": string,"shortcode": string
                  }
                  ComputedFields: never
                  Insert: {
                    "chat_id": string,"created_at"?: string,"created_by"?: string | null,"image_path": string,"shortcode": string
                  }
                  Update: {
                    "chat_id"?: string,"created_at"?: string,"created_by"?: string | null,"image_path"?: string,"shortcode"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "chat_emoji_chat_id_fkey"
      columns: ["chat_id"]
isOneToOne: false
      referencedRelation: "chats"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "chat_emoji_created_by_fkey"
      columns: ["created_by"]
isOneToOne: false
      referencedRelation: "profiles"
      referencedColumns: ["id"]
    }
                  ]
                },"chat_freezes": {
                  Row: {
                    "chat_id": string,"created_at": string,"frozen_by": string | null,"reason": string | null
                  }
                  ComputedFields: never
                  Insert: {
                    "chat_id": string,"created_at"?: string,"frozen_by"?: string | null,"reason"?: string | null
                  }
                  Update: {
                    "chat_id"?: string,"created_at"?: string,"frozen_by"?: string | null,"reason"?: string | null
                  }
                  Relationships: [
                    {
      foreignKeyName: "chat_freezes_chat_id_fkey"
      columns: ["chat_id"]
isOneToOne: true
      referencedRelation: "chats"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "chat_freezes_frozen_by_fkey"
      columns: ["frozen_by"]
isOneToOne: false
      referencedRelation: "profiles"
      referencedColumns: ["id"]
    }
                  ]
                },"chat_invitations": {
                  Row: {
                    "chat_id": string,"created_at": string,"created_by": string | null,"expires_at": string | null,"id": string,"invited_user_id": string | null,"max_uses": number | null,"responded_at": string | null,"status": Database["public"]['Enums']["invitation_status"],"token": string | null,"use_count": number
                  }
                  ComputedFields: never
                  Insert: {
                    "chat_id": string,"created_at"?: string,"created_by"?: string | null,"expires_at"?: string | null,"id"?: string,"invited_user_id"?: string | null,"max_uses"?: number | null,"responded_at"?: string | null,"status"?: Database["public"]['Enums']["invitation_status"],"token"?: string | null,"use_count"?: number
                  }
                  Update: {
                    "chat_id"?: string,"created_at"?: string,"created_by"?: string | null,"expires_at"?: string | null,"id"?: string,"invited_user_id"?: string | null,"max_uses"?: number | null,"responded_at"?: string | null,"status"?: Database["public"]['Enums']["invitation_status"],"token"?: string | null,"use_count"?: number
                  }
                  Relationships: [
                    {
      foreignKeyName: "chat_invitations_chat_id_fkey"
      columns: ["chat_id"]
isOneToOne: false
      referencedRelation: "chats"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "chat_invitations_created_by_fkey"
      columns: ["created_by"]
isOneToOne: false
      referencedRelation: "profiles"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "chat_invitations_invited_user_id_fkey"
      columns: ["invited_user_id"]
isOneToOne: false
      referencedRelation: "profiles"
      referencedColumns: ["id"]
    }
                  ]
                },"chat_members": {
                  Row: {
                    "archived_at": string | null,"chat_id": string,"history_from_seq": number,"joined_at": string,"joined_event_seq": number,"last_posted_at": string | null,"last_read_at": string | null,"last_read_seq": number,"muted_until": string | null,"notification_level": Database["public"]['Enums']["notification_level"],"pinned_at": string | null,"role": Database["public"]['Enums']["chat_role"],"user_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "archived_at"?: string | null,"chat_id": string,"history_from_seq"?: number,"joined_at"?: string,"joined_event_seq"?: number,"last_posted_at"?: string | null,"last_read_at"?: string | null,"last_read_seq"?: number,"muted_until"?: string | null,"notification_level"?: Database["public"]['Enums']["notification_level"],"pinned_at"?: string | null,"role"?: Database["public"]['Enums']["chat_role"],"user_id": string
                  }
                  Update: {
                    "archived_at"?: string | null,"chat_id"?: string,"history_from_seq"?: number,"joined_at"?: string,"joined_event_seq"?: number,"last_posted_at"?: string | null,"last_read_at"?: string | null,"last_read_seq"?: number,"muted_until"?: string | null,"notification_level"?: Database["public"]['Enums']["notification_level"],"pinned_at"?: string | null,"role"?: Database["public"]['Enums']["chat_role"],"user_id"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "chat_members_chat_id_fkey"
      columns: ["chat_id"]
isOneToOne: false
      referencedRelation: "chats"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "chat_members_user_id_fkey"
      columns: ["user_id"]
isOneToOne: false
      referencedRelation: "profiles"
      referencedColumns: ["id"]
    }
                  ]
                },"chat_mutes": {
                  Row: {
                    "chat_id": string,"created_at": string,"muted_by": string | null,"muted_until": string,"reason": string | null,"user_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "chat_id": string,"created_at"?: string,"muted_by"?: string | null,"muted_until": string,"reason"?: string | null,"user_id": string
                  }
                  Update: {
                    "chat_id"?: string,"created_at"?: string,"muted_by"?: string | null,"muted_until"?: string,"reason"?: string | null,"user_id"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "chat_mutes_chat_id_fkey"
      columns: ["chat_id"]
isOneToOne: false
      referencedRelation: "chats"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "chat_mutes_muted_by_fkey"
      columns: ["muted_by"]
isOneToOne: false
      referencedRelation: "profiles"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "chat_mutes_user_id_fkey"
      columns: ["user_id"]
isOneToOne: false
      referencedRelation: "profiles"
      referencedColumns: ["id"]
    }
                  ]
                },"chat_retention": {
                  Row: {
                    "chat_id": string,"message_ttl": string,"set_by": string | null,"updated_at": string
                  }
                  ComputedFields: never
                  Insert: {
                    "chat_id": string,"message_ttl": string,"set_by"?: string | null,"updated_at"?: string
                  }
                  Update: {
                    "chat_id"?: string,"message_ttl"?: string,"set_by"?: string | null,"updated_at"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "chat_retention_chat_id_fkey"
      columns: ["chat_id"]
isOneToOne: true
      referencedRelation: "chats"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "chat_retention_set_by_fkey"
      columns: ["set_by"]
isOneToOne: false
      referencedRelation: "profiles"
      referencedColumns: ["id"]
    }
                  ]
                },"chats": {
                  Row: {
                    "avatar_path": string | null,"created_at": string,"created_by": string | null,"description": string | null,"direct_key": string | null,"discoverable": boolean,"everyone_mentions": boolean,"history_visible_to_new_members": boolean,"id": string,"kind": Database["public"]['Enums']["chat_kind"],"last_activity_at": string,"last_event_seq": number,"last_message_at": string | null,"last_message_seq": number,"member_count": number,"moderation_seq": number,"slow_mode_seconds": number,"title": string | null,"updated_at": string,"who_can_post": Database["public"]['Enums']["post_permission"]
                  }
                  ComputedFields: never
                  Insert: {
                    "avatar_path"?: string | null,"created_at"?: string,"created_by"?: string | null,"description"?: string | null,"direct_key"?: string | null,"discoverable"?: boolean,"everyone_mentions"?: boolean,"history_visible_to_new_members"?: boolean,"id"?: string,"kind": Database["public"]['Enums']["chat_kind"],"last_activity_at"?: string,"last_event_seq"?: number,"last_message_at"?: string | null,"last_message_seq"?: number,"member_count"?: number,"moderation_seq"?: number,"slow_mode_seconds"?: number,"title"?: string | null,"updated_at"?: string,"who_can_post"?: Database["public"]['Enums']["post_permission"]
                  }
                  Update: {
                    "avatar_path"?: string | null,"created_at"?: string,"created_by"?: string | null,"description"?: string | null,"direct_key"?: string | null,"discoverable"?: boolean,"everyone_mentions"?: boolean,"history_visible_to_new_members"?: boolean,"id"?: string,"kind"?: Database["public"]['Enums']["chat_kind"],"last_activity_at"?: string,"last_event_seq"?: number,"last_message_at"?: string | null,"last_message_seq"?: number,"member_count"?: number,"moderation_seq"?: number,"slow_mode_seconds"?: number,"title"?: string | null,"updated_at"?: string,"who_can_post"?: Database["public"]['Enums']["post_permission"]
                  }
                  Relationships: [
                    {
      foreignKeyName: "chats_created_by_fkey"
      columns: ["created_by"]
isOneToOne: false
      referencedRelation: "profiles"
      referencedColumns: ["id"]
    }
                  ]
                },"data_exports": {
                  Row: {
                    "created_at": string,"download_expires_at": string | null,"download_url": string | null,"error": string | null,"expires_at": string | null,"file_count": number | null,"finished_at": string | null,"id": string,"message_count": number | null,"object_path": string | null,"phase": string | null,"progress": number,"size_bytes": number | null,"started_at": string | null,"status": string,"user_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "created_at"?: string,"download_expires_at"?: string | null,"download_url"?: string | null,"error"?: string | null,"expires_at"?: string | null,"file_count"?: number | null,"finished_at"?: string | null,"id"?: string,"message_count"?: number | null,"object_path"?: string | null,"phase"?: string | null,"progress"?: number,"size_bytes"?: number | null,"started_at"?: string | null,"status"?: string,"user_id": string
                  }
                  Update: {
                    "created_at"?: string,"download_expires_at"?: string | null,"download_url"?: string | null,"error"?: string | null,"expires_at"?: string | null,"file_count"?: number | null,"finished_at"?: string | null,"id"?: string,"message_count"?: number | null,"object_path"?: string | null,"phase"?: string | null,"progress"?: number,"size_bytes"?: number | null,"started_at"?: string | null,"status"?: string,"user_id"?: string
                  }
                  Relationships: [
                    
                  ]
                },"message_edits": {
                  Row: {
                    "chat_id": string,"edited_at": string,"edited_by": string | null,"id": number,"message_id": string,"previous_body": string | null
                  }
                  ComputedFields: never
                  Insert: {
                    "chat_id": string,"edited_at"?: string,"edited_by"?: string | null,"id"?: never,"message_id": string,"previous_body"?: string | null
                  }
                  Update: {
                    "chat_id"?: string,"edited_at"?: string,"edited_by"?: string | null,"id"?: never,"message_id"?: string,"previous_body"?: string | null
                  }
                  Relationships: [
                    {
      foreignKeyName: "message_edits_chat_id_fkey"
      columns: ["chat_id"]
isOneToOne: false
      referencedRelation: "chats"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "message_edits_edited_by_fkey"
      columns: ["edited_by"]
isOneToOne: false
      referencedRelation: "profiles"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "message_edits_message_id_fkey"
      columns: ["message_id"]
isOneToOne: false
      referencedRelation: "messages"
      referencedColumns: ["id"]
    }
                  ]
                },"message_reactions": {
                  Row: {
                    "chat_id": string,"created_at": string,"emoji": string,"message_id": string,"user_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "chat_id": string,"created_at"?: string,"emoji": string,"message_id": string,"user_id": string
                  }
                  Update: {
                    "chat_id"?: string,"created_at"?: string,"emoji"?: string,"message_id"?: string,"user_id"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "message_reactions_chat_id_fkey"
      columns: ["chat_id"]
isOneToOne: false
      referencedRelation: "chats"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "message_reactions_message_id_fkey"
      columns: ["message_id"]
isOneToOne: false
      referencedRelation: "messages"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "message_reactions_user_id_fkey"
      columns: ["user_id"]
isOneToOne: false
      referencedRelation: "profiles"
      referencedColumns: ["id"]
    }
                  ]
                },"messages": {
                  Row: {
                    "author_id": string | null,"body": string | null,"chat_id": string,"client_id": string | null,"created_at": string,"deleted_at": string | null,"deleted_by": string | null,"edited_at": string | null,"forwarded_from_author_id": string | null,"forwarded_from_chat_id": string | null,"forwarded_from_message_id": string | null,"id": string,"kind": Database["public"]['Enums']["message_kind"],"last_reply_at": string | null,"mentions": (string)[],"metadata": NonNullable<Json>,"pinned_at": string | null,"pinned_by": string | null,"reaction_counts": NonNullable<Json>,"reply_count": number,"reply_to_id": string | null,"seq": number,"thread_root_id": string | null
                  }
                  ComputedFields: never
                  Insert: {
                    "author_id"?: string | null,"body"?: string | null,"chat_id": string,"client_id"?: string | null,"created_at"?: string,"deleted_at"?: string | null,"deleted_by"?: string | null,"edited_at"?: string | null,"forwarded_from_author_id"?: string | null,"forwarded_from_chat_id"?: string | null,"forwarded_from_message_id"?: string | null,"id"?: string,"kind"?: Database["public"]['Enums']["message_kind"],"last_reply_at"?: string | null,"mentions"?: (string)[],"metadata"?: NonNullable<Json>,"pinned_at"?: string | null,"pinned_by"?: string | null,"reaction_counts"?: NonNullable<Json>,"reply_count"?: number,"reply_to_id"?: string | null,"seq": number,"thread_root_id"?: string | null
                  }
                  Update: {
                    "author_id"?: string | null,"body"?: string | null,"chat_id"?: string,"client_id"?: string | null,"created_at"?: string,"deleted_at"?: string | null,"deleted_by"?: string | null,"edited_at"?: string | null,"forwarded_from_author_id"?: string | null,"forwarded_from_chat_id"?: string | null,"forwarded_from_message_id"?: string | null,"id"?: string,"kind"?: Database["public"]['Enums']["message_kind"],"last_reply_at"?: string | null,"mentions"?: (string)[],"metadata"?: NonNullable<Json>,"pinned_at"?: string | null,"pinned_by"?: string | null,"reaction_counts"?: NonNullable<Json>,"reply_count"?: number,"reply_to_id"?: string | null,"seq"?: number,"thread_root_id"?: string | null
                  }
                  Relationships: [
                    {
      foreignKeyName: "messages_author_id_fkey"
      columns: ["author_id"]
isOneToOne: false
      referencedRelation: "profiles"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "messages_chat_id_fkey"
      columns: ["chat_id"]
isOneToOne: false
      referencedRelation: "chats"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "messages_deleted_by_fkey"
      columns: ["deleted_by"]
isOneToOne: false
      referencedRelation: "profiles"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "messages_forwarded_from_author_id_fkey"
      columns: ["forwarded_from_author_id"]
isOneToOne: false
      referencedRelation: "profiles"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "messages_forwarded_from_chat_id_fkey"
      columns: ["forwarded_from_chat_id"]
isOneToOne: false
      referencedRelation: "chats"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "messages_forwarded_from_message_id_fkey"
      columns: ["forwarded_from_message_id"]
isOneToOne: false
      referencedRelation: "messages"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "messages_pinned_by_fkey"
      columns: ["pinned_by"]
isOneToOne: false
      referencedRelation: "profiles"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "messages_reply_to_id_fkey"
      columns: ["reply_to_id"]
isOneToOne: false
      referencedRelation: "messages"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "messages_thread_root_id_fkey"
      columns: ["thread_root_id"]
isOneToOne: false
      referencedRelation: "messages"
      referencedColumns: ["id"]
    }
                  ]
                },"notification_settings": {
                  Row: {
                    "disabled_kinds": (Database["public"]['Enums']["notification_kind"])[],"email_on_mention": boolean,"hide_previews": boolean,"push_enabled": boolean,"quiet_hours_end": string | null,"quiet_hours_start": string | null,"time_zone": string,"updated_at": string,"user_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "disabled_kinds"?: (Database["public"]['Enums']["notification_kind"])[],"email_on_mention"?: boolean,"hide_previews"?: boolean,"push_enabled"?: boolean,"quiet_hours_end"?: string | null,"quiet_hours_start"?: string | null,"time_zone"?: string,"updated_at"?: string,"user_id": string
                  }
                  Update: {
                    "disabled_kinds"?: (Database["public"]['Enums']["notification_kind"])[],"email_on_mention"?: boolean,"hide_previews"?: boolean,"push_enabled"?: boolean,"quiet_hours_end"?: string | null,"quiet_hours_start"?: string | null,"time_zone"?: string,"updated_at"?: string,"user_id"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "notification_settings_user_id_fkey"
      columns: ["user_id"]
isOneToOne: true
      referencedRelation: "profiles"
      referencedColumns: ["id"]
    }
                  ]
                },"notifications": {
                  Row: {
                    "actor_id": string | null,"chat_id": string | null,"created_at": string,"data": NonNullable<Json>,"id": string,"kind": Database["public"]['Enums']["notification_kind"],"message_id": string | null,"preview": string | null,"read_at": string | null,"recipient_id": string,"silent": boolean,"updated_at": string
                  }
                  ComputedFields: never
                  Insert: {
                    "actor_id"?: string | null,"chat_id"?: string | null,"created_at"?: string,"data"?: NonNullable<Json>,"id"?: string,"kind": Database["public"]['Enums']["notification_kind"],"message_id"?: string | null,"preview"?: string | null,"read_at"?: string | null,"recipient_id": string,"silent"?: boolean,"updated_at"?: string
                  }
                  Update: {
                    "actor_id"?: string | null,"chat_id"?: string | null,"created_at"?: string,"data"?: NonNullable<Json>,"id"?: string,"kind"?: Database["public"]['Enums']["notification_kind"],"message_id"?: string | null,"preview"?: string | null,"read_at"?: string | null,"recipient_id"?: string,"silent"?: boolean,"updated_at"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "notifications_actor_id_fkey"
      columns: ["actor_id"]
isOneToOne: false
      referencedRelation: "profiles"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "notifications_chat_id_fkey"
      columns: ["chat_id"]
isOneToOne: false
      referencedRelation: "chats"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "notifications_message_id_fkey"
      columns: ["message_id"]
isOneToOne: false
      referencedRelation: "messages"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "notifications_recipient_id_fkey"
      columns: ["recipient_id"]
isOneToOne: false
      referencedRelation: "profiles"
      referencedColumns: ["id"]
    }
                  ]
                },"privacy_settings": {
                  Row: {
                    "updated_at": string,"user_id": string,"who_can_add": Database["public"]['Enums']["privacy_audience"],"who_can_message": Database["public"]['Enums']["privacy_audience"],"who_can_see_presence": Database["public"]['Enums']["privacy_audience"]
                  }
                  ComputedFields: never
                  Insert: {
                    "updated_at"?: string,"user_id": string,"who_can_add"?: Database["public"]['Enums']["privacy_audience"],"who_can_message"?: Database["public"]['Enums']["privacy_audience"],"who_can_see_presence"?: Database["public"]['Enums']["privacy_audience"]
                  }
                  Update: {
                    "updated_at"?: string,"user_id"?: string,"who_can_add"?: Database["public"]['Enums']["privacy_audience"],"who_can_message"?: Database["public"]['Enums']["privacy_audience"],"who_can_see_presence"?: Database["public"]['Enums']["privacy_audience"]
                  }
                  Relationships: [
                    {
      foreignKeyName: "privacy_settings_user_id_fkey"
      columns: ["user_id"]
isOneToOne: true
      referencedRelation: "profiles"
      referencedColumns: ["id"]
    }
                  ]
                },"profiles": {
                  Row: {
                    "avatar_path": string | null,"bio": string | null,"created_at": string,"display_name": string | null,"id": string,"last_seen_at": string | null,"status": Database["public"]['Enums']["user_status"],"status_text": string | null,"updated_at": string,"username": string
                  }
                  ComputedFields: never
                  Insert: {
                    "avatar_path"?: string | null,"bio"?: string | null,"created_at"?: string,"display_name"?: string | null,"id": string,"last_seen_at"?: string | null,"status"?: Database["public"]['Enums']["user_status"],"status_text"?: string | null,"updated_at"?: string,"username": string
                  }
                  Update: {
                    "avatar_path"?: string | null,"bio"?: string | null,"created_at"?: string,"display_name"?: string | null,"id"?: string,"last_seen_at"?: string | null,"status"?: Database["public"]['Enums']["user_status"],"status_text"?: string | null,"updated_at"?: string,"username"?: string
                  }
                  Relationships: [
                    
                  ]
                },"push_devices": {
                  Row: {
                    "app_id": string | null,"created_at": string,"device_name": string | null,"id": string,"last_seen_at": string,"platform": string,"provider": Database["public"]['Enums']["push_provider"],"session_id": string | null,"updated_at": string,"user_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "app_id"?: string | null,"created_at"?: string,"device_name"?: string | null,"id"?: string,"last_seen_at"?: string,"platform": string,"provider": Database["public"]['Enums']["push_provider"],"session_id"?: string | null,"updated_at"?: string,"user_id": string
                  }
                  Update: {
                    "app_id"?: string | null,"created_at"?: string,"device_name"?: string | null,"id"?: string,"last_seen_at"?: string,"platform"?: string,"provider"?: Database["public"]['Enums']["push_provider"],"session_id"?: string | null,"updated_at"?: string,"user_id"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "push_devices_user_id_fkey"
      columns: ["user_id"]
isOneToOne: false
      referencedRelation: "profiles"
      referencedColumns: ["id"]
    }
                  ]
                },"recent_searches": {
                  Row: {
                    "query": string,"searched_at": string,"user_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "query": string,"searched_at"?: string,"user_id"?: string
                  }
                  Update: {
                    "query"?: string,"searched_at"?: string,"user_id"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "recent_searches_user_id_fkey"
      columns: ["user_id"]
isOneToOne: false
      referencedRelation: "profiles"
      referencedColumns: ["id"]
    }
                  ]
                },"reports": {
                  Row: {
                    "action": Database["public"]['Enums']["moderation_action"] | null,"chat_id": string | null,"created_at": string,"id": string,"message_id": string | null,"note": string | null,"reason": Database["public"]['Enums']["report_reason"],"reporter_id": string,"resolution_note": string | null,"resolved_at": string | null,"resolved_by": string | null,"status": Database["public"]['Enums']["report_status"],"target_id": string,"target_kind": Database["public"]['Enums']["report_target"],"target_user_id": string | null
                  }
                  ComputedFields: never
                  Insert: {
                    "action"?: Database["public"]['Enums']["moderation_action"] | null,"chat_id"?: string | null,"created_at"?: string,"id"?: string,"message_id"?: string | null,"note"?: string | null,"reason": Database["public"]['Enums']["report_reason"],"reporter_id": string,"resolution_note"?: string | null,"resolved_at"?: string | null,"resolved_by"?: string | null,"status"?: Database["public"]['Enums']["report_status"],"target_id"?: never,"target_kind": Database["public"]['Enums']["report_target"],"target_user_id"?: string | null
                  }
                  Update: {
                    "action"?: Database["public"]['Enums']["moderation_action"] | null,"chat_id"?: string | null,"created_at"?: string,"id"?: string,"message_id"?: string | null,"note"?: string | null,"reason"?: Database["public"]['Enums']["report_reason"],"reporter_id"?: string,"resolution_note"?: string | null,"resolved_at"?: string | null,"resolved_by"?: string | null,"status"?: Database["public"]['Enums']["report_status"],"target_id"?: never,"target_kind"?: Database["public"]['Enums']["report_target"],"target_user_id"?: string | null
                  }
                  Relationships: [
                    {
      foreignKeyName: "reports_chat_id_fkey"
      columns: ["chat_id"]
isOneToOne: false
      referencedRelation: "chats"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "reports_message_id_fkey"
      columns: ["message_id"]
isOneToOne: false
      referencedRelation: "messages"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "reports_reporter_id_fkey"
      columns: ["reporter_id"]
isOneToOne: false
      referencedRelation: "profiles"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "reports_resolved_by_fkey"
      columns: ["resolved_by"]
isOneToOne: false
      referencedRelation: "profiles"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "reports_target_user_id_fkey"
      columns: ["target_user_id"]
isOneToOne: false
      referencedRelation: "profiles"
      referencedColumns: ["id"]
    }
                  ]
                },"user_blocks": {
                  Row: {
                    "blocked_id": string,"blocker_id": string,"created_at": string
                  }
                  ComputedFields: never
                  Insert: {
                    "blocked_id": string,"blocker_id"?: string,"created_at"?: string
                  }
                  Update: {
                    "blocked_id"?: string,"blocker_id"?: string,"created_at"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "user_blocks_blocked_id_fkey"
      columns: ["blocked_id"]
isOneToOne: false
      referencedRelation: "profiles"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "user_blocks_blocker_id_fkey"
      columns: ["blocker_id"]
isOneToOne: false
      referencedRelation: "profiles"
      referencedColumns: ["id"]
    }
                  ]
                },"user_suspensions": {
                  Row: {
                    "created_at": string,"reason": string | null,"suspended_by": string | null,"suspended_until": string | null,"user_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "created_at"?: string,"reason"?: string | null,"suspended_by"?: string | null,"suspended_until"?: string | null,"user_id": string
                  }
                  Update: {
                    "created_at"?: string,"reason"?: string | null,"suspended_by"?: string | null,"suspended_until"?: string | null,"user_id"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "user_suspensions_suspended_by_fkey"
      columns: ["suspended_by"]
isOneToOne: false
      referencedRelation: "profiles"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "user_suspensions_user_id_fkey"
      columns: ["user_id"]
isOneToOne: true
      referencedRelation: "profiles"
      referencedColumns: ["id"]
    }
                  ]
                },"word_filters": {
                  Row: {
                    "action": Database["public"]['Enums']["word_filter_action"],"chat_id": string | null,"created_at": string,"created_by": string | null,"id": string,"word": string
                  }
                  ComputedFields: never
                  Insert: {
                    "action"?: Database["public"]['Enums']["word_filter_action"],"chat_id"?: string | null,"created_at"?: string,"created_by"?: string | null,"id"?: string,"word": string
                  }
                  Update: {
                    "action"?: Database["public"]['Enums']["word_filter_action"],"chat_id"?: string | null,"created_at"?: string,"created_by"?: string | null,"id"?: string,"word"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "word_filters_chat_id_fkey"
      columns: ["chat_id"]
isOneToOne: false
      referencedRelation: "chats"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "word_filters_created_by_fkey"
      columns: ["created_by"]
isOneToOne: false
      referencedRelation: "profiles"
      referencedColumns: ["id"]
    }
                  ]
                }
          }
          Views: {
            [_ in never]: never
          }
          Functions: {
            "accept_invite_link":
{ Args: { "token": string }; Returns: {
              "archived_at": string | null,
"chat_id": string,
"history_from_seq": number,
"joined_at": string,
"joined_event_seq": number,
"last_posted_at": string | null,
"last_read_at": string | null,
"last_read_seq": number,
"muted_until": string | null,
"notification_level": Database["public"]['Enums']["notification_level"],
"pinned_at": string | null,
"role": Database["public"]['Enums']["chat_role"],
"user_id": string
            }
                          SetofOptions: {
        from: "*"
        to: "chat_members"
        isOneToOne: true
        isSetofReturn: false
      } },
"add_chat_emoji":
{ Args: { "chat_id": string,"image_path": string,"shortcode": string }; Returns: {
              "chat_id": string,
"created_at": string,
"created_by": string | null,
"image_path": string,
"shortcode": string
            }
                          SetofOptions: {
        from: "*"
        to: "chat_emoji"
        isOneToOne: true
        isSetofReturn: false
      } },
"add_chat_members":
{ Args: { "chat_id": string,"user_ids": (string)[] }; Returns: number
                           },
"add_word_filter":
{ Args: { "action"?: Database["public"]['Enums']["word_filter_action"],"chat_id"?: string,"word": string }; Returns: {
              "action": Database["public"]['Enums']["word_filter_action"],
"chat_id": string | null,
"created_at": string,
"created_by": string | null,
"id": string,
"word": string
            }
                          SetofOptions: {
        from: "*"
        to: "word_filters"
        isOneToOne: true
        isSetofReturn: false
      } },
"ban_chat_member":
{ Args: { "chat_id": string,"reason"?: string,"user_id": string }; Returns: undefined
                           },
"clear_recent_searches":
{ Args: { "query"?: string }; Returns: number
                           },
"create_channel":
{ Args: { "description"?: string,"discoverable"?: boolean,"title": string }; Returns: {
              "avatar_path": string | null,
"created_at": string,
"created_by": string | null,
"description": string | null,
"direct_key": string | null,
"discoverable": boolean,
"everyone_mentions": boolean,
"history_visible_to_new_members": boolean,
"id": string,
"kind": Database["public"]['Enums']["chat_kind"],
"last_activity_at": string,
"last_event_seq": number,
"last_message_at": string | null,
"last_message_seq": number,
"member_count": number,
"moderation_seq": number,
"slow_mode_seconds": number,
"title": string | null,
"updated_at": string,
"who_can_post": Database["public"]['Enums']["post_permission"]
            }
                          SetofOptions: {
        from: "*"
        to: "chats"
        isOneToOne: true
        isSetofReturn: false
      } },
"create_direct_chat":
{ Args: { "user_id": string }; Returns: {
              "avatar_path": string | null,
"created_at": string,
"created_by": string | null,
"description": string | null,
"direct_key": string | null,
"discoverable": boolean,
"everyone_mentions": boolean,
"history_visible_to_new_members": boolean,
"id": string,
"kind": Database["public"]['Enums']["chat_kind"],
"last_activity_at": string,
"last_event_seq": number,
"last_message_at": string | null,
"last_message_seq": number,
"member_count": number,
"moderation_seq": number,
"slow_mode_seconds": number,
"title": string | null,
"updated_at": string,
"who_can_post": Database["public"]['Enums']["post_permission"]
            }
                          SetofOptions: {
        from: "*"
        to: "chats"
        isOneToOne: true
        isSetofReturn: false
      } },
"create_group_chat":
{ Args: { "description"?: string,"member_ids"?: (string)[],"title": string }; Returns: {
              "avatar_path": string | null,
"created_at": string,
"created_by": string | null,
"description": string | null,
"direct_key": string | null,
"discoverable": boolean,
"everyone_mentions": boolean,
"history_visible_to_new_members": boolean,
"id": string,
"kind": Database["public"]['Enums']["chat_kind"],
"last_activity_at": string,
"last_event_seq": number,
"last_message_at": string | null,
"last_message_seq": number,
"member_count": number,
"moderation_seq": number,
"slow_mode_seconds": number,
"title": string | null,
"updated_at": string,
"who_can_post": Database["public"]['Enums']["post_permission"]
            }
                          SetofOptions: {
        from: "*"
        to: "chats"
        isOneToOne: true
        isSetofReturn: false
      } },
"create_invite_link":
{ Args: { "chat_id": string,"expires_in_seconds"?: number,"max_uses"?: number }; Returns: {
              "chat_id": string,
"created_at": string,
"created_by": string | null,
"expires_at": string | null,
"id": string,
"invited_user_id": string | null,
"max_uses": number | null,
"responded_at": string | null,
"status": Database["public"]['Enums']["invitation_status"],
"token": string | null,
"use_count": number
            }
                          SetofOptions: {
        from: "*"
        to: "chat_invitations"
        isOneToOne: true
        isSetofReturn: false
      } },
"delete_chat":
{ Args: { "chat_id": string }; Returns: undefined
                           },
"delete_message":
{ Args: { "message_id": string }; Returns: {
              "author_id": string | null,
"body": string | null,
"chat_id": string,
"client_id": string | null,
"created_at": string,
"deleted_at": string | null,
"deleted_by": string | null,
"edited_at": string | null,
"forwarded_from_author_id": string | null,
"forwarded_from_chat_id": string | null,
"forwarded_from_message_id": string | null,
"id": string,
"kind": Database["public"]['Enums']["message_kind"],
"last_reply_at": string | null,
"mentions": (string)[],
"metadata": NonNullable<Json>,
"pinned_at": string | null,
"pinned_by": string | null,
"reaction_counts": NonNullable<Json>,
"reply_count": number,
"reply_to_id": string | null,
"seq": number,
"thread_root_id": string | null
            }
                          SetofOptions: {
        from: "*"
        to: "messages"
        isOneToOne: true
        isSetofReturn: false
      } },
"edit_message":
{ Args: { "body": string,"message_id": string }; Returns: {
              "author_id": string | null,
"body": string | null,
"chat_id": string,
"client_id": string | null,
"created_at": string,
"deleted_at": string | null,
"deleted_by": string | null,
"edited_at": string | null,
"forwarded_from_author_id": string | null,
"forwarded_from_chat_id": string | null,
"forwarded_from_message_id": string | null,
"id": string,
"kind": Database["public"]['Enums']["message_kind"],
"last_reply_at": string | null,
"mentions": (string)[],
"metadata": NonNullable<Json>,
"pinned_at": string | null,
"pinned_by": string | null,
"reaction_counts": NonNullable<Json>,
"reply_count": number,
"reply_to_id": string | null,
"seq": number,
"thread_root_id": string | null
            }
                          SetofOptions: {
        from: "*"
        to: "messages"
        isOneToOne: true
        isSetofReturn: false
      } },
"forward_message":
{ Args: { "client_id"?: string,"message_id": string,"to_chat_id": string }; Returns: {
              "author_id": string | null,
"body": string | null,
"chat_id": string,
"client_id": string | null,
"created_at": string,
"deleted_at": string | null,
"deleted_by": string | null,
"edited_at": string | null,
"forwarded_from_author_id": string | null,
"forwarded_from_chat_id": string | null,
"forwarded_from_message_id": string | null,
"id": string,
"kind": Database["public"]['Enums']["message_kind"],
"last_reply_at": string | null,
"mentions": (string)[],
"metadata": NonNullable<Json>,
"pinned_at": string | null,
"pinned_by": string | null,
"reaction_counts": NonNullable<Json>,
"reply_count": number,
"reply_to_id": string | null,
"seq": number,
"thread_root_id": string | null
            }
                          SetofOptions: {
        from: "*"
        to: "messages"
        isOneToOne: true
        isSetofReturn: false
      } },
"freeze_chat":
{ Args: { "chat_id": string,"reason"?: string }; Returns: {
              "chat_id": string,
"created_at": string,
"frozen_by": string | null,
"reason": string | null
            }
                          SetofOptions: {
        from: "*"
        to: "chat_freezes"
        isOneToOne: true
        isSetofReturn: false
      } },
"get_chat_events":
{ Args: { "after_cursor"?: number,"chat_id": string,"page_size"?: number }; Returns: Json
                           },
"get_chat_messages":
{ Args: { "after_seq"?: number,"around_seq"?: number,"before_seq"?: number,"chat_id": string,"page_size"?: number }; Returns: {
              "author_id": string | null,
"body": string | null,
"chat_id": string,
"client_id": string | null,
"created_at": string,
"deleted_at": string | null,
"deleted_by": string | null,
"edited_at": string | null,
"forwarded_from_author_id": string | null,
"forwarded_from_chat_id": string | null,
"forwarded_from_message_id": string | null,
"id": string,
"kind": Database["public"]['Enums']["message_kind"],
"last_reply_at": string | null,
"mentions": (string)[],
"metadata": NonNullable<Json>,
"pinned_at": string | null,
"pinned_by": string | null,
"reaction_counts": NonNullable<Json>,
"reply_count": number,
"reply_to_id": string | null,
"seq": number,
"thread_root_id": string | null
            }[]
                          SetofOptions: {
        from: "*"
        to: "messages"
        isOneToOne: false
        isSetofReturn: true
      } },
"get_invite_link_info":
{ Args: { "token": string }; Returns: {
              "already_member": boolean,"avatar_path": string,"chat_id": string,"description": string,"expires_at": string,"kind": Database["public"]['Enums']["chat_kind"],"member_count": number,"title": string
            }[]
                           },
"get_notification_settings":
{ Args: Record<PropertyKey, never>; Returns: {
              "disabled_kinds": (Database["public"]['Enums']["notification_kind"])[],
"email_on_mention": boolean,
"hide_previews": boolean,
"push_enabled": boolean,
"quiet_hours_end": string | null,
"quiet_hours_start": string | null,
"time_zone": string,
"updated_at": string,
"user_id": string
            }
                          SetofOptions: {
        from: "*"
        to: "notification_settings"
        isOneToOne: true
        isSetofReturn: false
      } },
"get_presence":
{ Args: { "user_ids": (string)[] }; Returns: {
              "last_seen_at": string,"status": Database["public"]['Enums']["user_status"],"user_id": string
            }[]
                           },
"get_privacy_settings":
{ Args: Record<PropertyKey, never>; Returns: {
              "updated_at": string,
"user_id": string,
"who_can_add": Database["public"]['Enums']["privacy_audience"],
"who_can_message": Database["public"]['Enums']["privacy_audience"],
"who_can_see_presence": Database["public"]['Enums']["privacy_audience"]
            }
                          SetofOptions: {
        from: "*"
        to: "privacy_settings"
        isOneToOne: true
        isSetofReturn: false
      } },
"get_unread_notification_count":
{ Args: Record<PropertyKey, never>; Returns: number
                           },
"get_updates":
{ Args: { "page_size"?: number,"since"?: string }; Returns: Json
                           },
"heartbeat":
{ Args: { "status"?: Database["public"]['Enums']["user_status"] }; Returns: Json
                           },
"invite_user":
{ Args: { "chat_id": string,"user_id": string }; Returns: {
              "chat_id": string,
"created_at": string,
"created_by": string | null,
"expires_at": string | null,
"id": string,
"invited_user_id": string | null,
"max_uses": number | null,
"responded_at": string | null,
"status": Database["public"]['Enums']["invitation_status"],
"token": string | null,
"use_count": number
            }
                          SetofOptions: {
        from: "*"
        to: "chat_invitations"
        isOneToOne: true
        isSetofReturn: false
      } },
"join_chat":
{ Args: { "chat_id": string }; Returns: {
              "archived_at": string | null,
"chat_id": string,
"history_from_seq": number,
"joined_at": string,
"joined_event_seq": number,
"last_posted_at": string | null,
"last_read_at": string | null,
"last_read_seq": number,
"muted_until": string | null,
"notification_level": Database["public"]['Enums']["notification_level"],
"pinned_at": string | null,
"role": Database["public"]['Enums']["chat_role"],
"user_id": string
            }
                          SetofOptions: {
        from: "*"
        to: "chat_members"
        isOneToOne: true
        isSetofReturn: false
      } },
"leave_chat":
{ Args: { "chat_id": string }; Returns: undefined
                           },
"list_chats":
{ Args: { "archived"?: boolean,"before_activity_at"?: string,"before_chat_id"?: string,"kind"?: Database["public"]['Enums']["chat_kind"],"page_size"?: number,"search"?: string,"unread_only"?: boolean }; Returns: {
              "archived": boolean,"avatar_path": string,"chat_id": string,"kind": Database["public"]['Enums']["chat_kind"],"last_activity_at": string,"last_message": Json,"last_message_seq": number,"last_read_seq": number,"member_count": number,"muted": boolean,"other_user_id": string,"pinned": boolean,"role": Database["public"]['Enums']["chat_role"],"title": string,"unread_count": number
            }[]
                           },
"list_notifications":
{ Args: { "before_at"?: string,"before_id"?: string,"chat_id"?: string,"page_size"?: number,"unread_only"?: boolean }; Returns: {
              "actor_id": string | null,
"chat_id": string | null,
"created_at": string,
"data": NonNullable<Json>,
"id": string,
"kind": Database["public"]['Enums']["notification_kind"],
"message_id": string | null,
"preview": string | null,
"read_at": string | null,
"recipient_id": string,
"silent": boolean,
"updated_at": string
            }[]
                          SetofOptions: {
        from: "*"
        to: "notifications"
        isOneToOne: false
        isSetofReturn: true
      } },
"mark_all_notifications_read":
{ Args: { "chat_id"?: string }; Returns: number
                           },
"mark_chat_read":
{ Args: { "chat_id": string,"up_to_seq"?: number }; Returns: number
                           },
"mark_notifications_read":
{ Args: { "notification_ids": (string)[] }; Returns: number
                           },
"mute_chat_member":
{ Args: { "chat_id": string,"duration_seconds": number,"reason"?: string,"user_id": string }; Returns: {
              "chat_id": string,
"created_at": string,
"muted_by": string | null,
"muted_until": string,
"reason": string | null,
"user_id": string
            }
                          SetofOptions: {
        from: "*"
        to: "chat_mutes"
        isOneToOne: true
        isSetofReturn: false
      } },
"pin_message":
{ Args: { "message_id": string,"pinned"?: boolean }; Returns: {
              "author_id": string | null,
"body": string | null,
"chat_id": string,
"client_id": string | null,
"created_at": string,
"deleted_at": string | null,
"deleted_by": string | null,
"edited_at": string | null,
"forwarded_from_author_id": string | null,
"forwarded_from_chat_id": string | null,
"forwarded_from_message_id": string | null,
"id": string,
"kind": Database["public"]['Enums']["message_kind"],
"last_reply_at": string | null,
"mentions": (string)[],
"metadata": NonNullable<Json>,
"pinned_at": string | null,
"pinned_by": string | null,
"reaction_counts": NonNullable<Json>,
"reply_count": number,
"reply_to_id": string | null,
"seq": number,
"thread_root_id": string | null
            }
                          SetofOptions: {
        from: "*"
        to: "messages"
        isOneToOne: true
        isSetofReturn: false
      } },
"register_push_device":
{ Args: { "app_id"?: string,"device_name"?: string,"platform": string,"provider": Database["public"]['Enums']["push_provider"],"remove_on_sign_out"?: boolean,"subscription"?: Json,"token"?: string }; Returns: {
              "app_id": string | null,
"created_at": string,
"device_name": string | null,
"id": string,
"last_seen_at": string,
"platform": string,
"provider": Database["public"]['Enums']["push_provider"],
"session_id": string | null,
"updated_at": string,
"user_id": string
            }
                          SetofOptions: {
        from: "*"
        to: "push_devices"
        isOneToOne: true
        isSetofReturn: false
      } },
"remove_chat_emoji":
{ Args: { "chat_id": string,"shortcode": string }; Returns: boolean
                           },
"remove_chat_member":
{ Args: { "chat_id": string,"user_id": string }; Returns: undefined
                           },
"remove_word_filter":
{ Args: { "filter_id": string }; Returns: boolean
                           },
"report_content":
{ Args: { "note"?: string,"reason": Database["public"]['Enums']["report_reason"],"target_id": string,"target_kind": Database["public"]['Enums']["report_target"] }; Returns: {
              "action": Database["public"]['Enums']["moderation_action"] | null,
"chat_id": string | null,
"created_at": string,
"id": string,
"message_id": string | null,
"note": string | null,
"reason": Database["public"]['Enums']["report_reason"],
"reporter_id": string,
"resolution_note": string | null,
"resolved_at": string | null,
"resolved_by": string | null,
"status": Database["public"]['Enums']["report_status"],
"target_id": string,
"target_kind": Database["public"]['Enums']["report_target"],
"target_user_id": string | null
            }
                          SetofOptions: {
        from: "*"
        to: "reports"
        isOneToOne: true
        isSetofReturn: false
      } },
"resolve_report":
{ Args: { "action": Database["public"]['Enums']["moderation_action"],"duration_seconds"?: number,"note"?: string,"report_id": string }; Returns: {
              "action": Database["public"]['Enums']["moderation_action"] | null,
"chat_id": string | null,
"created_at": string,
"id": string,
"message_id": string | null,
"note": string | null,
"reason": Database["public"]['Enums']["report_reason"],
"reporter_id": string,
"resolution_note": string | null,
"resolved_at": string | null,
"resolved_by": string | null,
"status": Database["public"]['Enums']["report_status"],
"target_id": string,
"target_kind": Database["public"]['Enums']["report_target"],
"target_user_id": string | null
            }
                          SetofOptions: {
        from: "*"
        to: "reports"
        isOneToOne: true
        isSetofReturn: false
      } },
"respond_to_invitation":
{ Args: { "accept": boolean,"invitation_id": string }; Returns: {
              "chat_id": string,
"created_at": string,
"created_by": string | null,
"expires_at": string | null,
"id": string,
"invited_user_id": string | null,
"max_uses": number | null,
"responded_at": string | null,
"status": Database["public"]['Enums']["invitation_status"],
"token": string | null,
"use_count": number
            }
                          SetofOptions: {
        from: "*"
        to: "chat_invitations"
        isOneToOne: true
        isSetofReturn: false
      } },
"revoke_invitation":
{ Args: { "invitation_id": string }; Returns: {
              "chat_id": string,
"created_at": string,
"created_by": string | null,
"expires_at": string | null,
"id": string,
"invited_user_id": string | null,
"max_uses": number | null,
"responded_at": string | null,
"status": Database["public"]['Enums']["invitation_status"],
"token": string | null,
"use_count": number
            }
                          SetofOptions: {
        from: "*"
        to: "chat_invitations"
        isOneToOne: true
        isSetofReturn: false
      } },
"save_recent_search":
{ Args: { "query": string }; Returns: {
              "query": string,
"searched_at": string,
"user_id": string
            }
                          SetofOptions: {
        from: "*"
        to: "recent_searches"
        isOneToOne: true
        isSetofReturn: false
      } },
"search_chats":
{ Args: { "cursor"?: string,"page_size"?: number,"query": string }; Returns: Database["public"]['CompositeTypes']["chat_search_result"][]
                          SetofOptions: {
        from: "*"
        to: "chat_search_result"
        isOneToOne: false
        isSetofReturn: true
      } },
"search_messages":
{ Args: { "after"?: string,"author_id"?: string,"before"?: string,"chat_id"?: string,"cursor"?: string,"file_kind"?: string,"has_files"?: boolean,"kind"?: Database["public"]['Enums']["message_kind"],"language"?: string,"mentions_me"?: boolean,"page_size"?: number,"query": string,"sort"?: string,"thread_root_id"?: string }; Returns: Database["public"]['CompositeTypes']["message_search_result"][]
                          SetofOptions: {
        from: "*"
        to: "message_search_result"
        isOneToOne: false
        isSetofReturn: true
      } },
"search_people":
{ Args: { "cursor"?: string,"page_size"?: number,"query": string }; Returns: Database["public"]['CompositeTypes']["people_search_result"][]
                          SetofOptions: {
        from: "*"
        to: "people_search_result"
        isOneToOne: false
        isSetofReturn: true
      } },
"search_suggestions":
{ Args: { "page_size"?: number,"query": string }; Returns: Database["public"]['CompositeTypes']["search_suggestion"][]
                          SetofOptions: {
        from: "*"
        to: "search_suggestion"
        isOneToOne: false
        isSetofReturn: true
      } },
"send_message":
{ Args: { "attachment_ids"?: (string)[],"body"?: string,"chat_id": string,"client_id"?: string,"kind"?: Database["public"]['Enums']["message_kind"],"mentions"?: (string)[],"metadata"?: Json,"reply_to_id"?: string,"thread_root_id"?: string }; Returns: {
              "author_id": string | null,
"body": string | null,
"chat_id": string,
"client_id": string | null,
"created_at": string,
"deleted_at": string | null,
"deleted_by": string | null,
"edited_at": string | null,
"forwarded_from_author_id": string | null,
"forwarded_from_chat_id": string | null,
"forwarded_from_message_id": string | null,
"id": string,
"kind": Database["public"]['Enums']["message_kind"],
"last_reply_at": string | null,
"mentions": (string)[],
"metadata": NonNullable<Json>,
"pinned_at": string | null,
"pinned_by": string | null,
"reaction_counts": NonNullable<Json>,
"reply_count": number,
"reply_to_id": string | null,
"seq": number,
"thread_root_id": string | null
            }
                          SetofOptions: {
        from: "*"
        to: "messages"
        isOneToOne: true
        isSetofReturn: false
      } },
"set_chat_preferences":
{ Args: { "archived"?: boolean,"chat_id": string,"muted_until"?: string,"notification_level"?: Database["public"]['Enums']["notification_level"],"pinned"?: boolean }; Returns: {
              "archived_at": string | null,
"chat_id": string,
"history_from_seq": number,
"joined_at": string,
"joined_event_seq": number,
"last_posted_at": string | null,
"last_read_at": string | null,
"last_read_seq": number,
"muted_until": string | null,
"notification_level": Database["public"]['Enums']["notification_level"],
"pinned_at": string | null,
"role": Database["public"]['Enums']["chat_role"],
"user_id": string
            }
                          SetofOptions: {
        from: "*"
        to: "chat_members"
        isOneToOne: true
        isSetofReturn: false
      } },
"set_disappearing_messages":
{ Args: { "chat_id": string,"ttl_seconds": number }; Returns: {
              "chat_id": string,
"message_ttl": string,
"set_by": string | null,
"updated_at": string
            }
                          SetofOptions: {
        from: "*"
        to: "chat_retention"
        isOneToOne: true
        isSetofReturn: false
      } },
"set_member_role":
{ Args: { "chat_id": string,"role": Database["public"]['Enums']["chat_role"],"user_id": string }; Returns: Database["public"]['Enums']["chat_role"]
                           },
"suspend_user":
{ Args: { "duration_seconds"?: number,"reason"?: string,"user_id": string }; Returns: {
              "created_at": string,
"reason": string | null,
"suspended_by": string | null,
"suspended_until": string | null,
"user_id": string
            }
                          SetofOptions: {
        from: "*"
        to: "user_suspensions"
        isOneToOne: true
        isSetofReturn: false
      } },
"toggle_reaction":
{ Args: { "emoji": string,"message_id": string }; Returns: Json
                           },
"transfer_chat_ownership":
{ Args: { "chat_id": string,"new_owner_id": string }; Returns: undefined
                           },
"unban_chat_member":
{ Args: { "chat_id": string,"user_id": string }; Returns: undefined
                           },
"unfreeze_chat":
{ Args: { "chat_id": string }; Returns: boolean
                           },
"unmute_chat_member":
{ Args: { "chat_id": string,"user_id": string }; Returns: boolean
                           },
"unregister_push_device":
{ Args: { "device_id"?: string,"provider"?: Database["public"]['Enums']["push_provider"],"subscription"?: Json,"token"?: string }; Returns: boolean
                           },
"unsuspend_user":
{ Args: { "user_id": string }; Returns: boolean
                           },
"update_chat":
{ Args: { "avatar_path"?: string,"chat_id": string,"description"?: string,"discoverable"?: boolean,"everyone_mentions"?: boolean,"history_visible_to_new_members"?: boolean,"slow_mode_seconds"?: number,"title"?: string,"who_can_post"?: Database["public"]['Enums']["post_permission"] }; Returns: {
              "avatar_path": string | null,
"created_at": string,
"created_by": string | null,
"description": string | null,
"direct_key": string | null,
"discoverable": boolean,
"everyone_mentions": boolean,
"history_visible_to_new_members": boolean,
"id": string,
"kind": Database["public"]['Enums']["chat_kind"],
"last_activity_at": string,
"last_event_seq": number,
"last_message_at": string | null,
"last_message_seq": number,
"member_count": number,
"moderation_seq": number,
"slow_mode_seconds": number,
"title": string | null,
"updated_at": string,
"who_can_post": Database["public"]['Enums']["post_permission"]
            }
                          SetofOptions: {
        from: "*"
        to: "chats"
        isOneToOne: true
        isSetofReturn: false
      } },
"update_notification_settings":
{ Args: { "clear_quiet_hours"?: boolean,"disabled_kinds"?: (Database["public"]['Enums']["notification_kind"])[],"email_on_mention"?: boolean,"hide_previews"?: boolean,"push_enabled"?: boolean,"quiet_hours_end"?: string,"quiet_hours_start"?: string,"time_zone"?: string }; Returns: {
              "disabled_kinds": (Database["public"]['Enums']["notification_kind"])[],
"email_on_mention": boolean,
"hide_previews": boolean,
"push_enabled": boolean,
"quiet_hours_end": string | null,
"quiet_hours_start": string | null,
"time_zone": string,
"updated_at": string,
"user_id": string
            }
                          SetofOptions: {
        from: "*"
        to: "notification_settings"
        isOneToOne: true
        isSetofReturn: false
      } },
"update_privacy_settings":
{ Args: { "who_can_add"?: Database["public"]['Enums']["privacy_audience"],"who_can_message"?: Database["public"]['Enums']["privacy_audience"],"who_can_see_presence"?: Database["public"]['Enums']["privacy_audience"] }; Returns: {
              "updated_at": string,
"user_id": string,
"who_can_add": Database["public"]['Enums']["privacy_audience"],
"who_can_message": Database["public"]['Enums']["privacy_audience"],
"who_can_see_presence": Database["public"]['Enums']["privacy_audience"]
            }
                          SetofOptions: {
        from: "*"
        to: "privacy_settings"
        isOneToOne: true
        isSetofReturn: false
      } }
          }
          Enums: {
            "attachment_scan_status": "pending"|"clean"|"infected"|"error","attachment_thumbnail_status": "pending"|"ready"|"failed"|"unsupported","chat_kind": "direct"|"group"|"channel","chat_role": "owner"|"admin"|"member","invitation_status": "pending"|"accepted"|"declined"|"revoked","message_kind": "text"|"image"|"file"|"voice"|"video"|"system","moderation_action": "dismiss"|"delete_message"|"mute"|"remove"|"ban"|"freeze"|"suspend","notification_kind": "mention"|"reply"|"thread_reply"|"direct_message"|"reaction"|"invitation"|"added_to_chat"|"system","notification_level": "all"|"mentions"|"none","post_permission": "members"|"admins","privacy_audience": "everyone"|"contacts"|"nobody","push_provider": "web_push"|"fcm"|"apns","report_reason": "spam"|"harassment"|"hate"|"violence"|"sexual"|"self_harm"|"illegal"|"impersonation"|"other","report_status": "open"|"dismissed"|"actioned","report_target": "message"|"user"|"chat","user_status": "online"|"away"|"busy"|"invisible"|"offline","word_filter_action": "block"|"mask"
          }
          CompositeTypes: {
            "chat_search_result": {
                        "chat_id": string | null,"kind": Database["public"]['Enums']["chat_kind"] | null,"title": string | null,"description": string | null,"avatar_path": string | null,"member_count": number | null,"is_member": boolean | null,"score": number | null,"cursor": string | null
                      },"message_search_result": {
                        "message_id": string | null,"chat_id": string | null,"chat_kind": Database["public"]['Enums']["chat_kind"] | null,"chat_title": string | null,"seq": number | null,"author_id": string | null,"author": Json | null,"kind": Database["public"]['Enums']["message_kind"] | null,"created_at": string | null,"edited_at": string | null,"thread_root_id": string | null,"snippet": string | null,"rank": number | null,"cursor": string | null
                      },"people_search_result": {
                        "user_id": string | null,"username": string | null,"display_name": string | null,"avatar_path": string | null,"score": number | null,"cursor": string | null
                      },"search_suggestion": {
                        "kind": string | null,"id": string | null,"label": string | null,"detail": string | null,"avatar_path": string | null
                      }
          }
        }
}

type DatabaseWithoutInternals = Omit<Database, '__InternalSupabase'>

type DefaultSchema = DatabaseWithoutInternals[Extract<keyof Database, "public">]

export type Tables<
  DefaultSchemaTableNameOrOptions extends
    | keyof (DefaultSchema["Tables"] & DefaultSchema["Views"])
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof (DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"] &
        DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Views"])
    : never = never
> = DefaultSchemaTableNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? (DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"] &
      DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Views"])[TableName] extends {
      Row: infer R
    }
    ? R
    : never
  : DefaultSchemaTableNameOrOptions extends keyof (DefaultSchema["Tables"] & DefaultSchema["Views"])
  ? (DefaultSchema["Tables"] & DefaultSchema["Views"])[DefaultSchemaTableNameOrOptions] extends {
      Row: infer R
    }
    ? R
    : never
  : never

export type TablesInsert<
  DefaultSchemaTableNameOrOptions extends
    | keyof DefaultSchema["Tables"]
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"]
    : never = never
> = DefaultSchemaTableNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"][TableName] extends {
      Insert: infer I
    }
    ? I
    : never
  : DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"]
  ? DefaultSchema["Tables"][DefaultSchemaTableNameOrOptions] extends {
      Insert: infer I
    }
    ? I
    : never
  : never

export type TablesUpdate<
  DefaultSchemaTableNameOrOptions extends
    | keyof DefaultSchema["Tables"]
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"]
    : never = never
> = DefaultSchemaTableNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"][TableName] extends {
      Update: infer U
    }
    ? U
    : never
  : DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"]
  ? DefaultSchema["Tables"][DefaultSchemaTableNameOrOptions] extends {
      Update: infer U
    }
    ? U
    : never
  : never

export type Enums<
  DefaultSchemaEnumNameOrOptions extends
    | keyof DefaultSchema["Enums"]
    | { schema: keyof DatabaseWithoutInternals },
  EnumName extends DefaultSchemaEnumNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaEnumNameOrOptions["schema"]]["Enums"]
    : never = never
> = DefaultSchemaEnumNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? DatabaseWithoutInternals[DefaultSchemaEnumNameOrOptions["schema"]]["Enums"][EnumName]
  : DefaultSchemaEnumNameOrOptions extends keyof DefaultSchema["Enums"]
  ? DefaultSchema["Enums"][DefaultSchemaEnumNameOrOptions]
  : never

export type CompositeTypes<
  PublicCompositeTypeNameOrOptions extends
    | keyof DefaultSchema["CompositeTypes"]
    | { schema: keyof DatabaseWithoutInternals },
  CompositeTypeName extends PublicCompositeTypeNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[PublicCompositeTypeNameOrOptions["schema"]]["CompositeTypes"]
    : never = never
> = PublicCompositeTypeNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? DatabaseWithoutInternals[PublicCompositeTypeNameOrOptions["schema"]]["CompositeTypes"][CompositeTypeName]
  : PublicCompositeTypeNameOrOptions extends keyof DefaultSchema["CompositeTypes"]
  ? DefaultSchema["CompositeTypes"][PublicCompositeTypeNameOrOptions]
  : never

export const Constants = {
  "graphql_public": {
          Enums: {
            
          }
        },"public": {
          Enums: {
            "attachment_scan_status": ["pending", "clean", "infected", "error"],"attachment_thumbnail_status": ["pending", "ready", "failed", "unsupported"],"chat_kind": ["direct", "group", "channel"],"chat_role": ["owner", "admin", "member"],"invitation_status": ["pending", "accepted", "declined", "revoked"],"message_kind": ["text", "image", "file", "voice", "video", "system"],"moderation_action": ["dismiss", "delete_message", "mute", "remove", "ban", "freeze", "suspend"],"notification_kind": ["mention", "reply", "thread_reply", "direct_message", "reaction", "invitation", "added_to_chat", "system"],"notification_level": ["all", "mentions", "none"],"post_permission": ["members", "admins"],"privacy_audience": ["everyone", "contacts", "nobody"],"push_provider": ["web_push", "fcm", "apns"],"report_reason": ["spam", "harassment", "hate", "violence", "sexual", "self_harm", "illegal", "impersonation", "other"],"report_status": ["open", "dismissed", "actioned"],"report_target": ["message", "user", "chat"],"user_status": ["online", "away", "busy", "invisible", "offline"],"word_filter_action": ["block", "mask"]
          }
        }
} as const
