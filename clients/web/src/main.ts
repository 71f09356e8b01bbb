// FamilyStory's web app.
export {};
