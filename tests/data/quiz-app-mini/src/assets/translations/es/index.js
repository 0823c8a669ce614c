import es17 from './lesson-17.json';
//add items here
const quiz = {
  0: es17[0]
};

export default quiz;
