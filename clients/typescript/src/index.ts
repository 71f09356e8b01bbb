// @familystory/client: the sync protocol of FamilyStory's API as a library.
export {};
